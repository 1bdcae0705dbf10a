"""Two jobs at once: a training run keeps going while another project imports and cleans
a large file.

Run: .venv/bin/python bench/bench_concurrency.py [--records 100000] [--base FOLDER] [--json]

Baseline, measured in the same run: the same training job alone. Prints the training
time alone and under load (ratio), whether the training succeeded, how many progress
events of the import and of the clean were visible before each ended, the slowest
answer of `enclave jobs` (in process, and as a new process) while they ran, and how
long a cancel of a running import took to reach its final state.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("fever cough rash ankle wrist insulin dosage ward triage discharge sutures wound "
         "pressure bandage oxygen asthma inhaler fracture cast crutches allergy").split()


def write_export(path: Path, count: int, seed: int = 0) -> Path:
    """A JSONL instruction export of ``count`` distinct records."""
    rng = random.Random(seed)
    with open(path, "w") as out:
        for i in range(count):
            out.write(json.dumps({"prompt": f"q{i} " + " ".join(rng.choices(WORDS, k=12)),
                                  "response": " ".join(rng.choices(WORDS, k=10))}) + "\n")
    return path


def _jobs_inside() -> float:
    """Seconds of `enclave jobs` run in this process."""
    import contextlib
    import io

    from engine.cli import main

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["jobs"]) == 0
    return time.perf_counter() - start


def _partway(channel, job_id: int) -> int:
    """Progress events of a running job so far whose step is short of its total."""
    return len([e for e in channel.events_after(job_id, 0)
                if e["step"] and e["step"] < max(e["total"] or 0, 1 << 62)])


def _watch(runner, job_id: int, figures: dict, name: str) -> dict:
    """Wait for a job, timing `enclave jobs` (in this process and as a new process) and
    counting the progress seen part-way, sampled every 0.1 s while the new process runs."""
    from engine.store.channel import JobChannel

    channel = JobChannel(runner.db_path)
    seen = 0
    while job_id in runner.running():
        inside = _jobs_inside()
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "engine.cli", "jobs"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=os.environ.copy())
        while child.poll() is None:
            seen = max(seen, _partway(channel, job_id))
            time.sleep(0.1)
        process = time.perf_counter() - start
        assert child.returncode == 0, "`enclave jobs` failed while jobs ran"
        figures["jobs_max_s"] = max(figures.get("jobs_max_s", 0.0), inside)
        figures["jobs_process_max_s"] = max(figures.get("jobs_process_max_s", 0.0), process)
        seen = max(seen, _partway(channel, job_id))
    figures[f"{name}_events_partway"] = seen
    return runner.wait(job_id)


def _train_params(db, project_id: int, base: str, steps: int) -> dict:
    from engine.store import datasets

    dataset = datasets.default_training(db, project_id)
    return {"base": base, "dataset": dataset["id"],
            "recipe": {"method": "lora", "max_steps": steps, "max_length": 64,
                       "batch_size": 2, "checkpoint_every": 5}}


def _cancel_seconds(runner, project_id: int, source: Path) -> float:
    from engine.store import jobs, open_store

    db = open_store(runner.db_path, migrate=False, check=False)
    job = runner.submit("data.import", {"path": str(source), "task": "instruction"}, project_id)
    while (jobs.get(db, job)["step"] or 0) < 5000 and job in runner.running():
        time.sleep(0.05)
    start = time.perf_counter()
    runner.cancel(job, grace_s=1.0)
    runner.wait(job)
    return time.perf_counter() - start


def run(records: int, base: str, steps: int) -> dict:
    """The scenario; returns its figures."""
    from engine import paths
    from engine.data.importer import import_file
    from engine.jobs.runner import JobRunner
    from engine.store import open_store, projects

    folder = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    os.environ["ENCLAVE_HOME"] = str(folder / "home")
    db = open_store(paths.workspace_db())
    ward, intake = projects.create(db, "ward"), projects.create(db, "intake")
    import_file(db, ward, write_export(folder / "small.jsonl", 200, seed=1), task="instruction")
    big = write_export(folder / "big.jsonl", records)
    runner, figures = JobRunner(paths.workspace_db()), {"records": records}
    start = time.perf_counter()
    figures["train_alone_state"] = runner.wait(runner.submit(
        "train", _train_params(db, ward, base, steps), ward))["state"]
    figures["train_alone_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    train = runner.submit("train", _train_params(db, ward, base, steps), ward)
    figures["import_state"] = _watch(runner, runner.submit(
        "data.import", {"path": str(big), "task": "instruction"}, intake), figures,
        "import")["state"]
    figures["clean_state"] = _watch(runner, runner.submit(
        "data.clean", {"recipe": {"tokenizer": "words"}}, intake), figures, "clean")["state"]
    figures["cancel_s"] = round(_cancel_seconds(runner, intake, big), 2)
    figures["train_loaded_state"] = runner.wait(train)["state"]
    figures["train_loaded_s"] = round(time.perf_counter() - start, 1)
    figures["ratio_loaded_vs_alone"] = round(figures["train_loaded_s"] / figures["train_alone_s"], 2)
    figures["integrity"] = db.execute("PRAGMA integrity_check").fetchone()[0]
    return figures


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="bench_concurrency.py")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--base", default="smollm2", help="base model of the training job")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args.records, args.base, args.steps)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"training beside a {figures['records']:,}-record import and clean: "
          f"{figures['train_loaded_state']} in {figures['train_loaded_s']} s "
          f"(alone, the baseline: {figures['train_alone_state']} in {figures['train_alone_s']} s; "
          f"ratio {figures['ratio_loaded_vs_alone']}x)")
    print(f"import {figures['import_state']}, {figures['import_events_partway']} progress events "
          f"seen part-way; clean {figures['clean_state']}, {figures['clean_events_partway']}")
    print(f"`enclave jobs` slowest answer: {figures['jobs_max_s']:.3f} s in process, "
          f"{figures['jobs_process_max_s']:.2f} s as a new process")
    print(f"cancel of a running import: final state after {figures['cancel_s']} s; "
          f"integrity_check {figures['integrity']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
