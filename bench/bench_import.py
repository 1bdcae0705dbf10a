"""Import benchmark: a large JSONL file and a large JSON array stream into the store.

Run: .venv/bin/python bench/bench_import.py [--mb 1000]
Prints seconds, MB/s and the peak resident memory of the importing process next to the file
size, and the same for the baseline of loading the file whole (json.load / pandas.read_json).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def write_files(folder: Path, megabytes: int) -> tuple[Path, Path]:
    jsonl, array = folder / "big.jsonl", folder / "big.json"
    target = megabytes * 1_000_000
    with open(jsonl, "w") as lines, open(array, "w") as items:
        items.write("[")
        i, size = 0, 0
        while size < target:
            line = json.dumps({"prompt": f"Question {i}: " + "what does the note say " * 12,
                               "response": f"Answer {i}: " + "the note says this " * 14})
            lines.write(line + "\n")
            items.write(("," if i else "") + line)
            size += len(line) + 1
            i += 1
        items.write("]")
    return jsonl, array


def enclave(path: str, queue) -> None:
    os.environ["ENCLAVE_HOME"] = tempfile.mkdtemp(prefix="bench-import-")
    from engine import paths
    from engine.data.importer import import_file
    from engine.store import open_store, projects

    db = open_store(paths.workspace_db())
    pid = projects.create(db, "bench")
    started = time.perf_counter()
    summary = import_file(db, pid, Path(path), task="instruction", test_fraction=0.1)
    queue.put({"seconds": time.perf_counter() - started, "records": summary.records,
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def load_whole(path: str, queue) -> None:
    started = time.perf_counter()
    with open(path) as stream:
        records = json.load(stream) if path.endswith(".json") else [json.loads(x) for x in stream]
    queue.put({"seconds": time.perf_counter() - started, "records": len(records),
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def measure(target, path: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(str(path), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-import-data-"))
    for path in write_files(folder, args.mb):
        size = path.stat().st_size / 1e6
        for name, target in (("enclave import", enclave), ("load whole (baseline)", load_whole)):
            r = measure(target, path)
            print(f"{path.name:<10} {size:7.0f} MB  {name:<22} {r['records']:>9,} records  "
                  f"{r['seconds']:7.1f} s  {size / r['seconds']:6.1f} MB/s  peak {r['peak_mb']:6.0f} MB")
        path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
