"""Cleaning benchmark: exact + near dedup + PHI redaction on generated clinical records.

Run: .venv/bin/python bench/bench_clean.py [--n 100000]   (needs the `bench` extra: pandas)

Each side runs in a fresh process (spawn) so that its peak resident memory is its own:
  * Enclave: the records are imported into a throw-away workspace, then `run_clean`
    streams them from the store (normalise, redact, exact + near dedup, word lengths)
    and writes the new version; the import is timed separately.
  * Baseline: pandas `read_json(lines=True)` + `drop_duplicates` on the normalised text,
    plain datasketch `MinHash` (update per shingle) + `MinHashLSH` (query, then insert),
    and the same regular expressions applied naively (`re.sub` per rule, per field).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

_DRUGS = ("metformin", "lisinopril", "atorvastatin", "amlodipine", "omeprazole", "sertraline",
          "levothyroxine", "gabapentin", "warfarin", "insulin glargine")
_SYMPTOMS = ("dizziness", "nausea", "a dry cough", "ankle swelling", "headaches", "fatigue",
             "muscle pain", "low mood", "palpitations", "blurred vision")
_NAMES = ("Maria Lopez", "John Carter", "Aisha Khan", "Tomasz Nowak", "Emily Chen", "Robert Smith")


def generate(path: Path, n: int, seed: int = 0) -> None:
    """n records: ~10% exact duplicates, ~10% near duplicates, identifiers in most."""
    rng = random.Random(seed)
    originals: list[dict] = []
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            roll = rng.random()
            if originals and roll < 0.1:
                record = dict(rng.choice(originals))
            elif originals and roll < 0.2:
                base = rng.choice(originals)
                record = {"prompt": base["prompt"] + " Thanks.", "response": base["response"]}
            else:
                drug, symptom = rng.choice(_DRUGS), rng.choice(_SYMPTOMS)
                record = {
                    "prompt": f"Patient {rng.choice(_NAMES)} (MRN {rng.randint(1_000_000, 9_999_999)}), "
                              f"seen on {rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/2023, started "
                              f"{drug} {rng.choice([5, 10, 20, 40, 500])} mg and now reports {symptom} "
                              f"and {rng.choice(_SYMPTOMS)} after {rng.randint(2, 60)} days; visit {i}.",
                    "response": f"Review {drug} with the prescriber; call {rng.randint(200, 999)}-"
                                f"{rng.randint(200, 999)}-{rng.randint(1000, 9999)} if {symptom} gets "
                                f"worse. Note {i}: check levels in {rng.randint(1, 8)} weeks."}
                originals.append(record)
            out.write(json.dumps(record) + "\n")


def run_enclave(path: str, queue) -> None:
    os.environ["ENCLAVE_HOME"] = tempfile.mkdtemp(prefix="bench-clean-")
    from engine import paths
    from engine.data.clean_recipe import CleanRecipe
    from engine.data.clean_run import run_clean
    from engine.data.importer import import_file
    from engine.store import open_store, projects

    db = open_store(paths.workspace_db())
    pid = projects.create(db, "bench")
    started = time.perf_counter()
    import_file(db, pid, Path(path), task="instruction", test_fraction=0)
    imported = time.perf_counter() - started
    recipe = CleanRecipe(tokenizer="words", contamination=False, label_checks=False)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    outcome = run_clean(db, pid, recipe)
    seconds = time.perf_counter() - started
    counts = outcome.report["counts"]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    main_cpu = usage.ru_utime + usage.ru_stime - cpu_before
    cpu = main_cpu + outcome.report["workers"]["cpu_seconds"]
    queue.put({"seconds": seconds, "import_seconds": imported, "kept": outcome.report["output"]["records"],
               "cpu": cpu, "main_cpu": main_cpu,
               "exact": counts["exact_duplicate"], "near": counts["near_duplicate"],
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def run_baseline(path: str, queue) -> None:
    import re

    import pandas as pd
    from datasketch import MinHash, MinHashLSH

    from engine.data.phi.detectors import _RULES

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    frame = pd.read_json(path, lines=True)
    for column in ("prompt", "response"):
        frame[column] = frame[column].map(lambda t: " ".join(t.split()))
    key = (frame["prompt"] + "\x00" + frame["response"]).str.casefold()
    before = len(frame)
    frame = frame.loc[~key.duplicated()]
    exact = before - len(frame)
    for column in ("prompt", "response"):
        frame[column] = frame[column].map(
            lambda text: _naive_redact(text, _RULES, re))
    lsh = MinHashLSH(threshold=0.8, num_perm=64)
    keep, near = [], 0
    for index, (prompt, response) in enumerate(zip(frame["prompt"], frame["response"])):
        words = re.findall(r"\w+", f"{prompt}\n{response}".casefold())
        signature = MinHash(num_perm=64)
        for i in range(max(1, len(words) - 2)):
            signature.update(" ".join(words[i:i + 3]).encode())
        if lsh.query(signature):
            near += 1
            continue
        lsh.insert(str(index), signature)
        keep.append(index)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put({"seconds": seconds, "kept": len(keep), "exact": exact, "near": near,
               "cpu": usage.ru_utime + usage.ru_stime - cpu_before,
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _naive_redact(text: str, rules, re) -> str:
    for kind, pattern, group in rules:
        if group == 0:
            text = re.sub(pattern, f"[{kind}]", text)
        else:
            text = re.sub(pattern, lambda m, k=kind, g=group: m.group(0).replace(m.group(g), f"[{k}]"), text)
    return text


def _in_process(target, path: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(str(path), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-clean-data-"))
    path = folder / "records.jsonl"
    generate(path, args.n)
    print(f"{args.n:,} records, {path.stat().st_size / 1e6:.1f} MB; {os.cpu_count()} CPU cores; "
          f"load average before: {os.getloadavg()[0]:.1f}")
    ours = _in_process(run_enclave, path)
    base = _in_process(run_baseline, path)
    for name, r in (("enclave", ours), ("baseline", base)):
        print(f"{name:<9} {args.n / r['seconds']:>8,.0f} records/s  {r['seconds']:7.1f} s wall  "
              f"{r['cpu']:7.1f} s CPU ({args.n / r['cpu']:,.0f} records per CPU-second)  "
              f"peak {r['peak_mb']:7.0f} MB  kept {r['kept']:,} (exact {r['exact']:,}, near {r['near']:,})")
    print(f"enclave import (streamed into the store, not in the figure above): {ours['import_seconds']:.1f} s")
    print(f"load average after: {os.getloadavg()[0]:.1f} (other work on the machine slows both sides)")
    print("enclave peak is its main process; its {} preparation workers are not included".format(
        os.cpu_count() if args.n >= 4000 else 0))
    bound = max(ours["main_cpu"], ours["cpu"] / 2)
    print(f"CPU ratio baseline / enclave: {base['cpu'] / ours['cpu']:.2f}x; enclave main process "
          f"{ours['main_cpu']:.1f} s + workers {ours['cpu'] - ours['main_cpu']:.1f} s, so two idle cores "
          f"would clean at most about {args.n / bound:,.0f} records/s")
    print(f"speed ratio enclave / baseline: {base['seconds'] / ours['seconds']:.2f}x; "
          f"peak memory ratio: {ours['peak_mb'] / base['peak_mb']:.2f}x; goal >= 2,000 records/s: "
          + ("met" if args.n / ours["seconds"] >= 2000 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
