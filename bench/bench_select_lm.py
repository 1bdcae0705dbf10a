"""Coreset vs random for instruction tuning: held-out perplexity after LoRA on SmolLM2.

The seeded clinical demo set is cleaned and split (20 % test, at most --test rows
scored). For each method and budget (percent of the training records) and seed,
the method picks rows, SmolLM2-135M-Instruct gets a LoRA adapter trained for the
same number of steps on them, and the answer-token perplexity of the test rows is
measured. Base model perplexity and a full-data run give the reference points.
Slow on a CPU (several seconds per step): keep --steps, --seeds and --methods small.

    python bench/bench_select_lm.py [--records 600] [--budgets 1,5,10] [--seeds 2]
        [--methods kmeans,random] [--steps 20] [--test 48] [--full]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("ENCLAVE_HOME", str(Path(tempfile.gettempdir()) / "enclave-bench-select"))

import engine  # noqa: E402,F401  (offline switches)
from engine import paths  # noqa: E402


def clinical_split(records_n: int) -> tuple[list[dict], list[dict]]:
    from engine.data.cleaner import clean_records
    from engine.data.demo_clinical import write_clinical
    from engine.data.file_records import read_records
    from engine.data.split import hold_out

    path = paths.home() / f"clinical-{records_n}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_clinical(path, n=records_n, seed=0)
    kept = clean_records(read_records(path, "instruction").records, "instruction")
    return hold_out(kept, 0.2, 0)


def tuned_perplexity(folder: Path, records: list[dict], test: list[dict], steps: int,
                     seed: int) -> float:
    from peft import PeftModel

    from engine.metrics.perplexity import perplexity
    from engine.models.loading import load_causal_lm, load_tokenizer
    from engine.train.loop import train
    from engine.train.recipe import TrainRecipe

    with tempfile.TemporaryDirectory() as out:
        result = train(folder, records, TrainRecipe(max_steps=steps, seed=seed,
                                                        learning_rate=5e-4), Path(out) / "a")
        model = PeftModel.from_pretrained(load_causal_lm(folder), str(result.adapter_dir))
        return perplexity(model, load_tokenizer(folder), test).ppl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--budgets", default="1,5,10")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--methods", default="kmeans,random")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--test", type=int, default=48)
    parser.add_argument("--full", action="store_true", help="also train on all records")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    from engine.metrics.perplexity import perplexity
    from engine.models.bundled import smollm2_folder
    from engine.models.loading import load_causal_lm, load_tokenizer
    from engine.select.cache import embed_cached, record_text
    from engine.select.methods import MethodInput, resolve_method, run_method
    from engine.store import open_store

    train, test = clinical_split(args.records)
    test = test[:args.test]
    folder = smollm2_folder()
    vectors = embed_cached(open_store(paths.workspace_db()),
                           [record_text(r) for r in train]).vectors
    base = perplexity(load_causal_lm(folder), load_tokenizer(folder), test).ppl
    print(f"train {len(train)}, test {len(test)}; base perplexity {base:.3f}; "
          f"{args.steps} LoRA steps per arm; the default method (auto) is "
          f"{resolve_method('auto', None)} for instruction records")
    if args.full:
        print(f"  full data: {tuned_perplexity(folder, train, test, args.steps, 0):.3f}")
    for percent in (float(b) for b in args.budgets.split(",")):
        budget = max(1, round(len(train) * percent / 100))
        for method in args.methods.split(","):
            started, values = time.perf_counter(), []
            for seed in range(args.seeds):
                rows = run_method(method, MethodInput(vectors, budget, seed)).indices
                values.append(tuned_perplexity(folder, [train[i] for i in rows], test,
                                               args.steps, seed))
            print(f"  {percent:g} % ({budget} rows) {method:<10} perplexity "
                  f"{np.mean(values):.3f} ± {np.std(values):.3f}  per seed "
                  f"{[round(v, 3) for v in values]}  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
