"""IFD scoring speed: batched by length on free-core threads vs one record at a time.

Scores the same generated instruction records (bench_select_lm's clinical + legal mix)
with the bundled SmolLM2, model load included in every arm, arms interleaved and the
fastest of --repeats runs counted, so that other work on a shared machine does not
decide the ratio:

- baseline: one record at a time (two passes each) on every core's thread, float32,
  as the scorer ran before batching;
- batched: sequences sorted by length in batches of 8, threads = free cores, float32;
- batched bfloat16: the same in bfloat16 (moves scores a little; the deviation from
  float32 is printed).

    python bench/bench_select_ifd.py [--records 32] [--repeats 2]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_select_lm import instruction_split

    from engine.models.bundled import smollm2_folder
    from engine.models.threads import free_cores, machine_cores
    from engine.select.ifd import ifd_scores

    records = instruction_split(args.records * 2)[0][:args.records]
    folder = smollm2_folder()
    arms = {"one at a time, all cores, float32": dict(batch_size=1, threads=machine_cores()),
            "batched, free cores, float32": dict(batch_size=8),
            "batched, free cores, bfloat16": dict(batch_size=8, dtype="bfloat16")}
    best = {name: (np.inf, None) for name in arms}
    for _ in range(args.repeats):
        for name, options in arms.items():
            started = time.perf_counter()
            scores = ifd_scores(records, folder, **options)
            seconds = time.perf_counter() - started
            best[name] = min(best[name], (seconds, scores), key=lambda pair: pair[0])
    base_seconds, base_scores = best["one at a time, all cores, float32"]
    print(f"{len(records)} records, best of {args.repeats}; {machine_cores()} cores, "
          f"{free_cores()} free now (load average {os.getloadavg()[0]:.1f})")
    for name, (seconds, scores) in best.items():
        print(f"  {name:<36} {seconds / len(records):6.3f} s/record  "
              f"{base_seconds / seconds:5.2f}x  max |score - baseline| "
              f"{np.max(np.abs(scores - base_scores)):.4f}")


if __name__ == "__main__":
    main()
