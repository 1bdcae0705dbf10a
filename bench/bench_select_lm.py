"""Coreset selection for instruction tuning: LoRA on SmolLM2, held-out perplexity and ROUGE-L.

A larger generated instruction set mixes topics and styles from the project's own
generators: the clinical demo's patient questions, discharge requests and triage notes,
plus legal clause instructions ("what kind of clause is this, and what does it
oblige?") built from the legal demo's clauses. It is cleaned and split (20 % test, at
most --test rows scored). For each budget (percent of the training records), method
and seed, the method picks rows, SmolLM2-135M-Instruct gets a LoRA adapter trained for
one pass over them (at least --min-steps steps, so the smallest budgets still
learn), and the test rows are scored: answer-token
perplexity, and ROUGE-L of greedy answers against the reference answers.

Methods: ``random``; ``kmeans`` (the founding paper, arXiv 2305.09246: the rows nearest
each k-means centroid); ``ifd`` (the rows of highest instruction-following difficulty,
Li et al. 2023, over the whole set); ``kmeans-ifd`` (k-means clusters, in each the row
with the best mix of IFD and typicality: Enclave's ``quality`` method). Each method is
compared with random and with kmeans on the same seeds (paired t-test).

Slow on a CPU (seconds per LoRA step, and IFD needs two forward passes per training
record, batched and cached in the workspace for reruns): size --records, --seeds and
--test to the machine. Arms run side by side in --workers processes of one torch thread
(default: the cores other work leaves free), and each finished arm is appended to
--results, so a run that is stopped picks up where it was.

    python bench/bench_select_lm.py [--records 3000] [--budgets 1,5,10] [--seeds 5]
        [--methods random,kmeans,ifd,kmeans-ifd] [--epochs 1] [--min-steps 10] [--steps N]
        [--test 32] [--new-tokens 48] [--workers N] [--threads N] [--ifd-dtype bfloat16]
        [--results FILE]
"""

from __future__ import annotations

import argparse
import json
import math
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


def score_arm(records: list[dict], test: list[dict], new_tokens: int, steps: int,
              seed: int) -> tuple[float, float]:
    """Perplexity and ROUGE-L (0-100) on ``test`` after ``steps`` LoRA steps on ``records``."""
    from peft import PeftModel

    from engine.evaluate.generation import generate_answers, reference_answer
    from engine.evaluate.text_overlap import rouge
    from engine.metrics.perplexity import perplexity
    from engine.models.bundled import smollm2_folder
    from engine.models.loading import load_causal_lm, load_tokenizer
    from engine.train.loop import train
    from engine.train.recipe import TrainRecipe

    folder = smollm2_folder()
    recipe = TrainRecipe(method="lora", task="instruction", max_steps=steps, seed=seed,
                         learning_rate=5e-4, checkpoint_every=0, checkpoint_minutes=0)
    with tempfile.TemporaryDirectory() as out:
        result = train(folder, records, recipe, Path(out) / "a")
        tokenizer = load_tokenizer(folder)
        model = PeftModel.from_pretrained(load_causal_lm(folder), str(result.adapter_dir))
        ppl = perplexity(model, tokenizer, test).ppl
        answers = generate_answers(model, tokenizer, test, max_new_tokens=new_tokens)
        return ppl, 100 * rouge(answers, [reference_answer(r) for r in test])["rougeL"]


def worker_start(threads: int) -> None:
    """Each worker process runs torch on ``threads`` threads (arms run side by side)."""
    import torch

    torch.set_num_threads(threads)


def arm_steps(rows: int, args: argparse.Namespace) -> int:
    """LoRA steps for a subset: a fixed --steps, or --epochs passes (at least --min-steps)."""
    from engine.train.recipe import TrainRecipe

    if args.steps:
        return args.steps
    recipe = TrainRecipe()
    return max(args.min_steps, math.ceil(args.epochs * rows / (recipe.batch_size * recipe.grad_accum)))


def choose(method: str, vectors: np.ndarray, ifd: np.ndarray | None, budget: int,
           seed: int) -> np.ndarray:
    from engine.select.methods import MethodInput, run_method

    if method == "ifd":  # highest difficulty over the whole set (ties: lower row)
        return np.sort(np.argsort(-ifd, kind="stable")[:budget])
    name = {"kmeans-ifd": "quality"}.get(method, method)
    return run_method(name, MethodInput(vectors, budget, seed, scores=ifd)).indices


def paired(ours: np.ndarray, base: np.ndarray) -> str:
    from scipy.stats import ttest_rel, wilcoxon

    if len(ours) < 2 or np.allclose(ours, base):
        return f"{np.mean(ours - base):+.3f}"
    text = f"{np.mean(ours - base):+.3f} (t p={ttest_rel(ours, base).pvalue:.3f}"
    if len(ours) >= 5:
        text += f", W p={wilcoxon(ours, base).pvalue:.3f}"
    return text + ")"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--budgets", default="1,5,10")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", default="random,kmeans,ifd,kmeans-ifd")
    parser.add_argument("--steps", type=int, default=0,
                        help="fixed LoRA steps per arm (default: --epochs over the subset)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--min-steps", type=int, default=10)
    parser.add_argument("--test", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--workers", type=int, default=None,
                        help="arms run side by side, one torch thread each "
                             "(default: the cores other work leaves free)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for IFD scoring (default: the free cores)")
    parser.add_argument("--ifd-dtype", default="float32", help="float32 or bfloat16")
    parser.add_argument("--report-only", action="store_true",
                        help="print the table from --results without running anything")
    parser.add_argument("--results", type=Path, default=None,
                        help="one JSON line per finished arm; a rerun skips those arms "
                             "(default: in ENCLAVE_HOME, named by the settings)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    from engine.models.threads import free_cores, torch_threads

    args.workers = args.workers or free_cores()
    if args.report_only:
        report(args, load_results(results_path(args)))
        return
    with torch_threads(args.threads) as threads:
        print(f"torch threads {threads} (IFD), {args.workers} arm workers; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        run(args)


def prepare(args: argparse.Namespace):
    """Training and test rows, their embeddings and (when a method needs them) IFD scores."""
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
    started = time.perf_counter()
    ifd = ifd_scores_cached(db, train, folder, dtype=args.ifd_dtype) \
        if any("ifd" in m for m in args.methods.split(",")) else None
    print(f"train {len(train)}, test {len(test)}; IFD scores ({args.ifd_dtype}) in "
          f"{time.perf_counter() - started:.0f} s; steps per arm: "
          f"{args.steps or f'{args.epochs:g} epoch(s), at least {args.min_steps}'}; "
          f"{args.seeds} seeds; base perplexity "
          f"{perplexity(load_causal_lm(folder), load_tokenizer(folder), test).ppl:.3f}")
    return train, test, vectors, ifd


def arms(args: argparse.Namespace, n_train: int) -> list[tuple[float, int, str, int]]:
    """(percent, budget rows, method, seed) for every arm, budget by budget."""
    return [(percent, max(1, round(n_train * percent / 100)), method, seed)
            for percent in (float(b) for b in args.budgets.split(","))
            for method in args.methods.split(",") for seed in range(args.seeds)]


def results_path(args: argparse.Namespace) -> Path:
    """The results file; its default name carries every setting an arm's figures depend on,
    so a rerun with other settings never reuses arms that do not match them."""
    steps = f"s{args.steps}" if args.steps else f"e{args.epochs:g}m{args.min_steps}"
    name = (f"bench-select-lm-{args.records}r-{args.test}t{args.new_tokens}g-{steps}-"
            f"{args.ifd_dtype}.jsonl")
    return args.results or paths.home() / name


def load_results(path: Path) -> dict[tuple, dict]:
    if not path.exists():
        return {}
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a run killed while writing: that arm runs again
            print(f"{path.name}, line {number}: cut off, skipped")
    return {(r["percent"], r["method"], r["seed"]): r for r in rows}


def run(args: argparse.Namespace) -> None:
    """Score every method at every budget and seed (in parallel); print the paired table."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    train, test, vectors, ifd = prepare(args)
    path = results_path(args)
    done = load_results(path)
    todo = [a for a in arms(args, len(train)) if (a[0], a[2], a[3]) not in done]
    print(f"{len(done)} arms from {path}, {len(todo)} to run")
    pool = ProcessPoolExecutor(args.workers, multiprocessing.get_context("spawn"),
                               initializer=worker_start, initargs=(1,))
    with pool, path.open("a") as out:
        futures = {}
        for percent, budget, method, seed in todo:
            rows = [train[i] for i in choose(method, vectors, ifd, budget, seed)]
            steps = arm_steps(budget, args)
            futures[pool.submit(timed_arm, rows, test, args.new_tokens, steps, seed)] = \
                dict(percent=percent, budget=budget, method=method, seed=seed, steps=steps)
        for future in as_completed(futures):
            try:
                ppl, rl, seconds = future.result()
            except Exception as error:  # one failed arm: say so, keep the others
                print(f"  arm {futures[future]} failed: {error!r}", flush=True)
                continue
            row = futures[future] | dict(ppl=ppl, rougeL=rl, seconds=round(seconds))
            done[(row["percent"], row["method"], row["seed"])] = row
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(f"  arm {row}", flush=True)
    report(args, done)


def timed_arm(*arm) -> tuple[float, float, float]:
    begun = time.perf_counter()
    return (*score_arm(*arm), time.perf_counter() - begun)


def spread(values: np.ndarray) -> float:
    """Sample standard deviation (0 for a single seed)."""
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def report(args: argparse.Namespace, done: dict[tuple, dict]) -> None:
    """One line per budget and method: mean ± std, paired against random and kmeans."""
    methods = args.methods.split(",")
    for percent in (float(b) for b in args.budgets.split(",")):
        missing = [(m, s) for m in methods for s in range(args.seeds) if (percent, m, s) not in done]
        if missing:
            print(f"{percent:g} %: {len(missing)} of {len(methods) * args.seeds} arms not run")
            continue
        table = {m: np.array([[done[(percent, m, s)]["ppl"], done[(percent, m, s)]["rougeL"]]
                              for s in range(args.seeds)]) for m in methods}
        first = done[(percent, methods[0], 0)]
        print(f"{percent:g} % ({first['budget']} rows, {first['steps']} LoRA steps)")
        for method in methods:
            ppl, rl = table[method][:, 0], table[method][:, 1]
            versus = "  ".join(f"vs {base}: ppl {paired(ppl, table[base][:, 0])}, "
                               f"ROUGE-L {paired(rl, table[base][:, 1])}"
                               for base in ("random", "kmeans") if base in table and base != method)
            print(f"  {method:<11} perplexity {ppl.mean():7.3f} ± {spread(ppl):.3f}  "
                  f"ROUGE-L {rl.mean():5.1f} ± {spread(rl):.1f}  {versus}")
            print(f"      per seed: perplexity {np.round(ppl, 3).tolist()}, "
                  f"ROUGE-L {np.round(rl, 2).tolist()}")


if __name__ == "__main__":
    main()
