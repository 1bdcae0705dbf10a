"""Recall and precision of the identifier detectors per type, on the labelled synthetic benchmark.

Run: .venv/bin/python bench/bench_phi.py [--n 3000] [--seed 0]
Structured identifiers must reach recall >= 0.95; names are reported on their own.
"""

from __future__ import annotations

import argparse
import sys
import time

from engine.data.phi.benchmark import generate, score
from engine.data.phi.detectors import STRUCTURED_TYPES


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    examples = generate(args.n, args.seed)
    started = time.perf_counter()
    results = score(examples)
    seconds = time.perf_counter() - started
    print(f"{args.n} sentences, {sum(len(e.spans) for e in examples)} identifiers, "
          f"{args.n / seconds:,.0f} sentences/s")
    print(f"{'type':<12} {'gold':>6} {'found':>6} {'recall':>7} {'precision':>9}")
    failed = []
    for kind, row in sorted(results.items(), key=lambda kv: (kv[0] == "NAME", kv[0])):
        print(f"{kind:<12} {row['gold']:>6} {row['predicted']:>6} {row['recall']:>7.3f} "
              f"{row['precision']:>9.3f}")
        if kind in STRUCTURED_TYPES and row["gold"] and row["recall"] < 0.95:
            failed.append(kind)
    print("structured identifiers: " + ("recall >= 0.95 for every type" if not failed
                                         else f"BELOW 0.95: {', '.join(failed)}"))
    print("names: rule and gazetteer detector; see NAME above (not held to the structured bar)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
