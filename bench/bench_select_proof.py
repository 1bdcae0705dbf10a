"""Does the coreset beat random? A logistic-regression probe on frozen MiniLM embeddings.

On the legal clause demo set (or a labelled JSONL file given with --file: one
{"text", "label"} object per line), a fixed stratified 30 % test split is held
out. For every method, budget (default 1, 5, 10 % of the training pool) and
seed, the method picks rows from the pool, a logistic-regression probe is
trained on their frozen embeddings and scored on the test split (accuracy and
macro F1). The full pool is the ceiling. Each method is compared with random
on the same seeds: mean difference, paired t-test and Wilcoxon signed-rank.

    python bench/bench_select_proof.py [--set legal|clinical-topics] [--lines 2000] [--mixed 0.5]
        [--seeds 10] [--budgets 1,2,5,10,20]
        [--methods kmeans,random,...] [--file labelled.jsonl]
        [--finetune [--finetune-methods random,auto,kmeans] [--finetune-seeds 5]]

--finetune adds arm (b): the MiniLM encoder fine-tuned with a classification
head on each subset (same number of steps for every arm; slow on a CPU, so it
runs fewer methods and seeds, on at most 200 test rows).

Embeddings go through the workspace cache ($ENCLAVE_HOME, a folder under /tmp
by default), so a rerun embeds nothing.
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

DEFAULT_METHODS = ("random", "auto", "kmeans", "kmeans-random", "kcenter", "facility", "quality",
                   "stratified-random", "stratified-kmeans", "stratified-facility",
                   "kmeans-balanced", "spread-kmeans", "probe-mix")


def load_records(file: Path | None, lines: int, mixed: float = 0.0,
                 proof_set: str = "legal") -> list[dict]:
    """Labelled records: the given file, the clinical topic set (32 labels, ``lines``
    rows; see bench_select_sets.py), or the cleaned legal clause demo set (with
    ``mixed`` of its clauses carrying a sentence of another clause type)."""
    from bench_select_sets import clinical_topics, write_set

    from engine.data.cleaner import clean_records
    from engine.data.demo_legal import write_legal
    from engine.data.file_records import read_records

    if file is None and proof_set == "clinical-topics":
        file = write_set(clinical_topics(lines), paths.home() / f"clinical-topics-{lines}.jsonl")
    elif file is None:
        file = paths.home() / f"legal-{lines}-mixed{mixed:g}.jsonl"
        file.parent.mkdir(parents=True, exist_ok=True)
        write_legal(file, n=lines, seed=0, mixed_rate=mixed)
    return clean_records(read_records(file, "classification").records, "classification")


def probe(train_x, train_y, test_x, test_y) -> tuple[float, float]:
    """Accuracy and macro F1 of a logistic-regression probe."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    if len(set(train_y)) < 2:  # one class only: the probe predicts it everywhere
        predicted = np.full(len(test_y), train_y[0], dtype=object)
    else:
        model = LogisticRegression(max_iter=2000, C=10.0).fit(train_x, train_y)
        predicted = model.predict(test_x)
    return (100 * accuracy_score(test_y, predicted),
            100 * f1_score(test_y, predicted, average="macro", zero_division=0))


def run_arm(method: str, budget: int, seed: int, pool_x, pool_y, test_x, test_y,
            scores: dict) -> tuple[float, float]:
    from engine.select.methods import MethodInput, resolve_method, run_method

    name = resolve_method(method, list(pool_y))
    chosen = run_method(name, MethodInput(pool_x, budget, seed, labels=list(pool_y),
                                          scores=scores.get(name))).indices
    return probe(pool_x[chosen], pool_y[chosen], test_x, test_y)


def compare(ours: np.ndarray, random: np.ndarray) -> str:
    """Mean paired difference with paired t-test and Wilcoxon p-values."""
    from scipy.stats import ttest_rel, wilcoxon

    diff = ours - random
    if np.allclose(diff, 0):
        return f"{0:+6.2f} (identical)"
    t_p = ttest_rel(ours, random).pvalue
    w_p = wilcoxon(ours, random).pvalue if np.count_nonzero(diff) > 0 else 1.0
    wins = int((diff > 0).sum())
    return f"{diff.mean():+6.2f} t p={t_p:.3f} w p={w_p:.3f} {wins}/{len(diff)}"


def finetune_table(records, pool, test, labels, budget: int, args) -> None:
    """Arm (b): MiniLM fine-tuned on each method's subset; accuracy mean ± std.

    Every arm takes the same optimizer steps; ``full`` draws its batches from the whole
    pool. Each method is compared with random on the same seeds.
    """
    from select_finetune_arm import finetune_accuracy

    from engine.select.cache import record_text
    from engine.select.methods import MethodInput, resolve_method, run_method

    vectors = embed_records([records[i] for i in pool], quiet=True)
    texts = [record_text(r) for r in records]
    names = sorted(set(labels))
    test_rows = test[:200]
    test_texts, test_labels = [texts[i] for i in test_rows], [labels[i] for i in test_rows]
    results = {}
    for method in args.finetune_methods.split(",") + ["full"]:
        if method == "full" and hasattr(args, "full_finetune"):  # the same at every budget
            values = args.full_finetune
        else:
            values = []
        for seed in range(len(values), args.finetune_seeds):
            chosen = pool if method == "full" else pool[run_method(
                resolve_method(method, list(labels[pool])),
                MethodInput(vectors, budget, seed, labels=list(labels[pool]))).indices]
            values.append(finetune_accuracy([texts[i] for i in chosen],
                                            [labels[i] for i in chosen], test_texts,
                                            test_labels, names, seed))
        results[method] = np.array(values)
        if method == "full":
            args.full_finetune = values
        versus = "" if method in ("random", "full") or "random" not in results \
            else "   vs random " + compare(results[method], results["random"])
        print(f"  fine-tune {method:<20} {results[method].mean():6.2f} ± "
              f"{results[method].std(ddof=1) if len(values) > 1 else 0:5.2f}  "
              f"(MiniLM + head, {args.finetune_seeds} seeds, {len(test_rows)} test rows)"
              f"{versus}", flush=True)


def embed_records(records: list[dict], quiet: bool = False) -> np.ndarray:
    from engine.select.cache import embed_cached, record_text
    from engine.store import open_store

    db = open_store(paths.workspace_db())
    started = time.perf_counter()
    result = embed_cached(db, [record_text(r) for r in records])
    if not quiet:
        print(f"embeddings: {result.embedded} computed, {result.cached} from the cache "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
    return result.vectors


def method_scores(pool_x, pool_y) -> dict:
    """Per-row scores computed once per pool: label margin (quality), probe confidence."""
    from engine.select.methods.labelled import probe_confidence
    from engine.select.scores import label_margin_score

    return {"quality": label_margin_score(pool_x, list(pool_y)),
            "probe-mix": probe_confidence(pool_x, pool_y)}


def budget_table(percent: float, pool_x, pool_y, test_x, test_y, scores, full_acc: float,
                 args) -> dict:
    """Run every method at one budget; print accuracy, F1 and paired tests."""
    from engine.select.methods import resolve_method

    budget = max(1, round(len(pool_x) * percent / 100))
    started = time.perf_counter()
    table = {m: np.array([run_arm(m, budget, s, pool_x, pool_y, test_x, test_y, scores)
                          for s in range(args.seeds)]) for m in args.methods.split(",")}
    print(f"budget {percent:g} % = {budget} rows, auto = "
          f"{resolve_method('auto', list(pool_y))}  ({time.perf_counter() - started:.0f} s)")
    print(f"  {'method':<20} {'accuracy':>14} {'macro F1':>14} {'% full':>6}   "
          f"{'vs random (paired)':<36} vs kmeans (paired)")
    for method, values in table.items():
        acc, f1 = values[:, 0], values[:, 1]
        versus = [("" if method == base or base not in table
                   else compare(acc, table[base][:, 0])) for base in ("random", "kmeans")]
        print(f"  {method:<20} {acc.mean():6.2f} ± {acc.std(ddof=1):5.2f} "
              f"{f1.mean():6.2f} ± {f1.std(ddof=1):5.2f} {100 * acc.mean() / full_acc:6.1f}   "
              f"{versus[0]:<36} {versus[1]}")
    if "auto" in table and "stratified-kmeans" in table:
        print(f"  auto vs stratified-kmeans (paired): "
              f"{compare(table['auto'][:, 0], table['stratified-kmeans'][:, 0])}")
    print(f"  {'full pool':<20} {full_acc:6.2f}\n")
    return {m: v[:, 0].mean() for m, v in table.items()}


def summary(results: dict, full_acc: float) -> None:
    """Mean accuracy per method (rows) and budget (columns); the best per budget marked *."""
    budgets = list(results)
    print("summary: mean accuracy (% of the full pool's accuracy)")
    print(f"  {'method':<20}" + "".join(f"{b:>16}" for b in budgets))
    for method in results[budgets[0]]:
        cells = []
        for b in budgets:
            value = results[b][method]
            mark = "*" if value >= max(results[b].values()) - 1e-9 else " "
            cells.append(f"{value:7.2f} ({100 * value / full_acc:4.1f}){mark}")
        print(f"  {method:<20}" + "".join(f"{c:>16}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="labelled JSONL (text, label)")
    parser.add_argument("--set", dest="proof_set", default="legal",
                        choices=("legal", "clinical-topics"), help="generated proof set")
    parser.add_argument("--lines", type=int, default=2000,
                        help="legal demo lines / clinical topic rows to generate")
    parser.add_argument("--mixed", type=float, default=0.0,
                        help="share of legal clauses with a sentence of another type (harder set)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", default="1,2,5,10,20", help="percentages of the pool")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    parser.add_argument("--finetune", action="store_true", help="add the MiniLM fine-tune arm")
    parser.add_argument("--finetune-methods", default="random,auto,kmeans")
    parser.add_argument("--finetune-seeds", type=int, default=5)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    from sklearn.model_selection import train_test_split

    records = load_records(args.file, args.lines, args.mixed, args.proof_set)
    vectors = embed_records(records)
    labels = np.array([r["label"] for r in records], dtype=object)
    pool, test = train_test_split(np.arange(len(records)), test_size=0.3, random_state=0,
                                  stratify=labels)
    pool_x, pool_y, test_x, test_y = vectors[pool], labels[pool], vectors[test], labels[test]
    scores = method_scores(pool_x, pool_y)
    full_acc, full_f1 = probe(pool_x, pool_y, test_x, test_y)
    print(f"records {len(records)}: pool {len(pool)}, test {len(test)}, "
          f"{len(set(labels))} labels, {args.seeds} seeds")
    print(f"full pool: accuracy {full_acc:.2f}  macro F1 {full_f1:.2f}\n")
    results = {}
    for percent in (float(b) for b in args.budgets.split(",")):
        results[f"{percent:g} %"] = budget_table(percent, pool_x, pool_y, test_x, test_y,
                                                 scores, full_acc, args)
        if args.finetune:
            budget = max(1, round(len(pool) * percent / 100))
            finetune_table(records, pool, test, labels, budget, args)
    summary(results, full_acc)


if __name__ == "__main__":
    main()
