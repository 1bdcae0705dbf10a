"""Coreset selection for instruction tuning: LoRA on SmolLM2, held-out perplexity and ROUGE-L.

A larger generated instruction set mixes topics and styles from the project's own
generators: the clinical demo's patient questions, discharge requests and triage notes,
plus legal clause instructions ("what kind of clause is this, and what does it
oblige?") built from the legal demo's clauses. It is cleaned and split (20 % test, at
most --test rows scored). For each budget (percent of the training records), method
and seed, the method picks rows, SmolLM2-135M-Instruct gets a LoRA adapter trained for
the same number of steps on them, and the test rows are scored: answer-token
perplexity, and ROUGE-L of greedy answers against the reference answers.

Methods: ``random``; ``kmeans`` (the founding paper, arXiv 2305.09246: the rows nearest
each k-means centroid); ``ifd`` (the rows of highest instruction-following difficulty,
Li et al. 2023, over the whole set); ``kmeans-ifd`` (k-means clusters, in each the row
with the best mix of IFD and typicality: Enclave's ``quality`` method). Each method is
compared with random and with kmeans on the same seeds (paired t-test).

Slow on a CPU (seconds per LoRA step, and IFD needs two forward passes per training
record, batched and cached in the workspace for reruns): size --records, --steps, --seeds
and --test to the machine. Torch runs on the cores other work leaves free (--threads).

    python bench/bench_select_lm.py [--records 3000] [--budgets 1,5,10] [--seeds 3]
        [--methods random,kmeans,ifd,kmeans-ifd] [--steps 20] [--test 32] [--new-tokens 48]
        [--threads N] [--ifd-dtype float32|bfloat16]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("ENCLAVE_HOME", str(Path(tempfile.gettempdir()) / "enclave-bench-select"))

import engine  # noqa: E402,F401  (offline switches)
from engine import paths  # noqa: E402


def legal_instructions(n: int, seed: int = 0) -> list[dict]:
    """Instruction records about legal clauses, from the legal demo generator."""
    from engine.data.demo_legal import legal_record

    rng = random.Random(seed)
    styles = ("What kind of clause is this?\n\n{text}",
              "Classify this contract clause and say in one line what it requires.\n{text}",
              "Clause review: {text}\nWhich clause type is it?")
    records = []
    for _ in range(n):
        clause = legal_record(rng)
        kind = clause["label"].replace("_", " ")
        duty = next((s for s in clause["text"].split(". ") if len(s) > 40 and "agree as"
                     not in s), clause["text"]).rstrip(".")
        records.append({"prompt": rng.choice(styles).format(text=clause["text"]),
                        "response": f"This is a {kind} clause. In short: {duty}."})
    return records


def instruction_split(records_n: int) -> tuple[list[dict], list[dict]]:
    """Clinical + legal instruction records (about 3:1), cleaned, split 80/20."""
    from engine.data.cleaner import clean_records
    from engine.data.demo_clinical import clinical_record
    from engine.data.split import hold_out

    rng = random.Random(0)
    legal_n = records_n // 4
    mixed = [clinical_record(rng) for _ in range(records_n - legal_n)]
    mixed = [{"prompt": r["prompt"], "response": r["response"]} for r in mixed]
    mixed += legal_instructions(legal_n)
    random.Random(1).shuffle(mixed)
    kept = clean_records(mixed, "instruction")
    return hold_out(kept, 0.2, 0)


def score_arm(folder: Path, records: list[dict], test: list[dict], args,
              seed: int) -> tuple[float, float]:
    """Perplexity and ROUGE-L (0-100) on ``test`` after LoRA on ``records``."""
    from peft import PeftModel

    from engine.evaluate.generation import generate_answers, reference_answer
    from engine.evaluate.text_overlap import rouge
    from engine.metrics.perplexity import perplexity
    from engine.models.loading import load_causal_lm, load_tokenizer
    from engine.train.loop import train
    from engine.train.recipe import TrainRecipe

    recipe = TrainRecipe(method="lora", task="instruction", max_steps=args.steps, seed=seed,
                         learning_rate=5e-4, checkpoint_every=0, checkpoint_minutes=0)
    with tempfile.TemporaryDirectory() as out:
        result = train(folder, records, recipe, Path(out) / "a")
        tokenizer = load_tokenizer(folder)
        model = PeftModel.from_pretrained(load_causal_lm(folder), str(result.adapter_dir))
        ppl = perplexity(model, tokenizer, test).ppl
        answers = generate_answers(model, tokenizer, test, max_new_tokens=args.new_tokens)
        return ppl, 100 * rouge(answers, [reference_answer(r) for r in test])["rougeL"]


def choose(method: str, vectors: np.ndarray, ifd: np.ndarray | None, budget: int,
           seed: int) -> np.ndarray:
    from engine.select.methods import MethodInput, run_method

    if method == "ifd":  # highest difficulty over the whole set (ties: lower row)
        return np.sort(np.argsort(-ifd, kind="stable")[:budget])
    name = {"kmeans-ifd": "quality"}.get(method, method)
    return run_method(name, MethodInput(vectors, budget, seed, scores=ifd)).indices


def paired(ours: np.ndarray, base: np.ndarray) -> str:
    from scipy.stats import ttest_rel

    if len(ours) < 2 or np.allclose(ours, base):
        return f"{np.mean(ours - base):+.3f}"
    return f"{np.mean(ours - base):+.3f} (t p={ttest_rel(ours, base).pvalue:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--budgets", default="1,5,10")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", default="random,kmeans,ifd,kmeans-ifd")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--test", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the cores other work leaves free)")
    parser.add_argument("--ifd-dtype", default="float32", help="float32 or bfloat16")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    from engine.models.threads import torch_threads

    with torch_threads(args.threads) as threads:
        print(f"torch threads {threads}; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores")
        run(args)


def run(args: argparse.Namespace) -> None:
    """Score every method at every budget and seed; print one line per method and budget."""
    from engine.metrics.perplexity import perplexity
    from engine.models.bundled import smollm2_folder
    from engine.models.loading import load_causal_lm, load_tokenizer
    from engine.select.cache import embed_cached, record_text
    from engine.select.ifd import ifd_scores_cached
    from engine.store import open_store

    train, test = instruction_split(args.records)
    test = test[:args.test]
    folder = smollm2_folder()
    db = open_store(paths.workspace_db())
    vectors = embed_cached(db, [record_text(r) for r in train]).vectors
    methods = args.methods.split(",")
    started = time.perf_counter()
    ifd = ifd_scores_cached(db, train, folder, dtype=args.ifd_dtype) \
        if any("ifd" in m for m in methods) else None
    print(f"train {len(train)}, test {len(test)}; IFD scores ({args.ifd_dtype}) in "
          f"{time.perf_counter() - started:.0f} s; {args.steps} LoRA steps per arm, "
          f"{args.seeds} seeds; base perplexity "
          f"{perplexity(load_causal_lm(folder), load_tokenizer(folder), test).ppl:.3f}")
    for percent in (float(b) for b in args.budgets.split(",")):
        budget = max(1, round(len(train) * percent / 100))
        table = {}
        for method in methods:
            begun = time.perf_counter()
            table[method] = np.array([score_arm(folder, [train[i] for i in choose(
                method, vectors, ifd, budget, seed)], test, args, seed)
                for seed in range(args.seeds)])
            ppl, rl = table[method][:, 0], table[method][:, 1]
            versus = "  ".join(f"vs {base}: ppl {paired(ppl, table[base][:, 0])}, "
                               f"ROUGE-L {paired(rl, table[base][:, 1])}"
                               for base in ("random", "kmeans") if base in table and base != method)
            print(f"  {percent:g} % ({budget} rows) {method:<11} perplexity {ppl.mean():7.3f} ± "
                  f"{ppl.std(ddof=1) if len(ppl) > 1 else 0:.3f}  ROUGE-L {rl.mean():5.1f} ± "
                  f"{rl.std(ddof=1) if len(rl) > 1 else 0:.1f}  {versus}  "
                  f"({time.perf_counter() - begun:.0f} s)")
            print(f"      per seed: perplexity {np.round(ppl, 3).tolist()}, "
                  f"ROUGE-L {np.round(rl, 2).tolist()}")


if __name__ == "__main__":
    main()
