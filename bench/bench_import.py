"""Import benchmark: big CSV and Excel exports (and JSONL / JSON arrays) against pandas.

Run: .venv/bin/python bench/bench_import.py [--csv-mb 100,1000] [--xlsx-mb 200]
         [--store-mb 1000] [--formats csv,xlsx,jsonl,json]

Files are generated into a temporary folder (never kept). Each measurement runs in a fresh
process and reports records/s and its peak resident memory:

- "enclave stream": Enclave's reader and mapping (dialect choice, header check, every row
  mapped onto the task's fields and checked), without the store, the part that reads the file;
- "enclave import": the whole import into the SQLite store, as `enclave data import` runs
  it (quarantine, duplicate groups, stratified test split, search index), for files up to
  --store-mb; the workspace it writes is removed afterwards;
- the pandas baseline: read_csv with chunks of 100,000 rows, read_excel (whole sheet),
  read_json (JSON Lines, array).

Peak memory of a streaming reader must stay flat as the file grows (compare the CSV sizes).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import resource
import shutil
import string
import sys
import tempfile
import time
from pathlib import Path

PANDAS_LIMIT_GB = 12  # the baseline's address space, so that it cannot take the machine down


def _words(rng: random.Random) -> list[str]:
    return ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
            for _ in range(50_000)]


def write_csv(path: Path, megabytes: int) -> Path:
    """A clinical-style export: quoted notes with inch marks, commas and line breaks."""
    rng, target = random.Random(0), megabytes * 1_000_000
    words = _words(rng)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(["note_id", "age", "history", "label"])
        i = 0
        while stream.tell() < target:
            note = f"Pt is 5'{i % 12}\" tall, {rng.randint(50, 120)} kg; " + " ".join(
                rng.choices(words, k=60)) + ("\nplan: review" if i % 7 == 0 else "")
            writer.writerow([i, rng.randint(18, 95), note, "admit" if i % 3 else "observe"])
            i += 1
    return path


def write_xlsx(path: Path, megabytes: int) -> Path:
    """A workbook as spreadsheet programs write it (shared strings), grown to the size."""
    from openpyxl import Workbook

    rng, rows = random.Random(0), max(1, megabytes * 3_500)  # about 285 bytes per row zipped
    words = _words(rng)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Notes")
    sheet.append(["note_id", "age", "history", "label"])
    for i in range(rows):
        sheet.append([i, rng.randint(18, 95), " ".join(rng.choices(words, k=60)),
                      "admit" if i % 3 else "observe"])
    book.save(path)
    return path


def write_jsonl(path: Path, megabytes: int, array: bool = False) -> Path:
    target, size, i = megabytes * 1_000_000, 0, 0
    with open(path, "w") as stream:
        stream.write("[" if array else "")
        while size < target:
            line = json.dumps({"prompt": f"Question {i}: " + "what does the note say " * 12,
                               "response": f"Answer {i}: " + "the note says this " * 14})
            stream.write(("," if array and i else "") + line + ("" if array else "\n"))
            size, i = size + len(line) + 1, i + 1
        stream.write("]" if array else "")
    return path


def _task(path: str) -> tuple[str, dict | None]:
    if path.endswith((".csv", ".xlsx")):
        return "classification", {"text": "history"}
    return "instruction", None


def enclave_stream(path: str, queue) -> None:
    from engine.data.formats import iter_rows
    from engine.data.importer import preview_file
    from engine.data.mapping import map_row
    from engine.data.records import RawRow

    task, mapping = _task(path)
    started = time.perf_counter()
    preview = preview_file(Path(path), task, mapping=mapping)
    records = 0
    for row in iter_rows(Path(path), preview.container, preview.encoding or None, preview.header):
        if isinstance(row, RawRow):
            record, _ = map_row(row.value, preview.mapping, task, path, row.line, row.unit)
            records += record is not None
    _done(queue, started, records)


def enclave_import(path: str, queue) -> None:
    os.environ["ENCLAVE_HOME"] = tempfile.mkdtemp(prefix="bench-import-")
    from engine import paths
    from engine.data.importer import import_file
    from engine.store import open_store, projects

    task, mapping = _task(path)
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "bench", task=task)
    started = time.perf_counter()
    summary = import_file(db, pid, Path(path), task=task, mapping=mapping, test_fraction=0.1)
    seconds = time.perf_counter() - started
    size = paths.workspace_db().stat().st_size / 1e6
    shutil.rmtree(os.environ["ENCLAVE_HOME"], ignore_errors=True)
    _done(queue, started, summary.records, seconds, f"workspace {size:,.0f} MB, "
          f"{summary.train:,} train / {summary.test:,} test, {summary.duplicates:,} duplicates")


def pandas_baseline(path: str, queue) -> None:
    limit = PANDAS_LIMIT_GB * 1024 ** 3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import pandas as pd

    started = time.perf_counter()
    try:
        if path.endswith(".csv"):
            records = sum(len(chunk) for chunk in pd.read_csv(path, chunksize=100_000))
        elif path.endswith(".xlsx"):
            records = len(pd.read_excel(path, sheet_name="Notes"))
        else:
            records = len(pd.read_json(path, lines=path.endswith(".jsonl")))
    except MemoryError:
        queue.put({"error": f"out of memory (over {PANDAS_LIMIT_GB} GB)"})
        return
    _done(queue, started, records)


def _done(queue, started: float, records: int, seconds: float | None = None,
          note: str = "") -> None:
    queue.put({"seconds": seconds or time.perf_counter() - started, "records": records,
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "note": note})


def measure(target, path: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(str(path), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


_BASELINES = {".csv": "pandas read_csv chunks", ".xlsx": "pandas read_excel",
              ".jsonl": "pandas read_json lines", ".json": "pandas read_json"}


def compare(path: Path, store_mb: int) -> None:
    size = path.stat().st_size / 1e6
    variants = [("enclave stream", enclave_stream)]
    if size <= store_mb * 1.05:
        variants.append(("enclave import (store)", enclave_import))
    variants.append((_BASELINES[path.suffix], pandas_baseline))
    results = []
    for name, target in variants:
        r = measure(target, path)
        results.append((name, r))
        if "error" in r:
            print(f"{path.name:<12} {size:7.0f} MB  {name:<24} {r['error']}")
            continue
        print(f"{path.name:<12} {size:7.0f} MB  {name:<24} {r['records']:>10,} records  "
              f"{r['records'] / r['seconds']:>9,.0f} rec/s  peak {r['peak_mb']:7.0f} MB  "
              f"({r['seconds']:,.0f} s{'; ' + r['note'] if r.get('note') else ''})", flush=True)
    base = results[-1][1]
    for name, ours in results[:-1]:
        if "error" in base or "error" in ours:
            continue
        print(f"{'':<23} ratio {name} / pandas: speed "
              f"{(ours['records'] / ours['seconds']) / (base['records'] / base['seconds']):.3f}x, "
              f"peak memory {ours['peak_mb'] / base['peak_mb']:.2f}x", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv-mb", default="100,1000")
    parser.add_argument("--xlsx-mb", default="200")
    parser.add_argument("--json-mb", default="100")
    parser.add_argument("--store-mb", type=int, default=1000)
    parser.add_argument("--formats", default="csv,xlsx")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-import-data-"))
    writers = {"csv": (args.csv_mb, lambda mb: write_csv(folder / f"export-{mb}.csv", mb)),
               "xlsx": (args.xlsx_mb, lambda mb: write_xlsx(folder / f"export-{mb}.xlsx", mb)),
               "jsonl": (args.json_mb, lambda mb: write_jsonl(folder / f"big-{mb}.jsonl", mb)),
               "json": (args.json_mb, lambda mb: write_jsonl(folder / f"big-{mb}.json", mb, True))}
    for fmt in args.formats.split(","):
        sizes, write = writers[fmt]
        for mb in (int(x) for x in sizes.split(",")):
            started = time.perf_counter()
            path = write(mb)
            print(f"-- wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            compare(path, args.store_mb)
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
