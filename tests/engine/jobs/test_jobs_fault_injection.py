"""Kill -9 at random points of import, clean, select, train and compress — the job's
child process or the command that supervises it — and check after each kill: the
workspace passes integrity_check, no building version survives the next start, every
visible version holds exactly its records, and every killed training run resumes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import paths
from engine.jobs.runner import JobRunner
from engine.store import open_store, projects

pytestmark = pytest.mark.slow

PLAN = ["import"] * 6 + ["clean"] * 5 + ["select"] * 2 + ["train"] * 5 + ["compress"] * 2


def _export(path: Path, count: int) -> Path:
    rng = random.Random(count)
    words = "fever cough rash ankle insulin dosage ward triage wound oxygen asthma cast".split()
    with open(path, "w") as out:
        for i in range(count):
            out.write(json.dumps({"prompt": f"q{i} " + " ".join(rng.choices(words, k=10)),
                                  "response": " ".join(rng.choices(words, k=8))}) + "\n")
    return path


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine.cli", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())


def _run(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True,
                          text=True, env=os.environ.copy(), timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def _commands(stage: str, source: Path, model: Path, run_id: int | None) -> list[str]:
    return {"import": ["data", "import", "ward", str(source)],
            "clean": ["data", "clean", "ward", "--set", "tokenizer=words"],
            "select": ["select", "ward", "--method", "random", "--budget", "40"],
            "train": ["train", "ward", "--base", str(model), "--method", "lora",
                      "--max-steps", "16", "--max-length", "64", "--checkpoint-every", "2"],
            "compress": ["compress", str(run_id), "--method", "prune", "--sparsity", "0.3"],
            }[stage]


def _kill_somewhere(proc: subprocess.Popen, db, rng: random.Random) -> str:
    """Kill the command or its job's child at a random moment of the job's run."""
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        running = [r for r in db["jobs"].rows_where("state = 'running'") if r["pid"]]
        if running:
            break
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 1.5))
    target = rng.choice(["child", "command"])
    running = [r for r in db["jobs"].rows_where("state = 'running'") if r["pid"]]
    if target == "child" and running:
        try:
            os.kill(running[0]["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
    else:
        proc.kill()
    proc.wait(timeout=120)
    _wait_no_running_child(db)
    return target


def _wait_no_running_child(db) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        rows = list(db["jobs"].rows_where("state = 'running'"))
        if not rows or not any(_alive(r["pid"]) for r in rows):
            return
        time.sleep(0.1)
    raise AssertionError("a job child outlived its command by two minutes")


def _alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, TypeError):
        return False
    return True


def _check_workspace() -> None:
    JobRunner(paths.workspace_db())  # the next start: stale jobs, sweep of building versions
    db = open_store(paths.workspace_db(), migrate=False)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db["datasets"].count_where("state = 'building'") == 0
    for row in db["datasets"].rows:
        assert db["records"].count_where("dataset_id = ?", [row["id"]]) == row["record_count"]
    assert not db["jobs"].count_where("state = 'running'")


def test_twenty_kills_leave_a_sound_workspace_and_resumable_runs(tmp_path, tiny_llama_folder):
    rng = random.Random(1234)
    db = open_store(paths.workspace_db())
    projects.create(db, "ward")
    small, big = _export(tmp_path / "notes.jsonl", 400), _export(tmp_path / "big.jsonl", 30_000)
    _run("data", "import", "ward", str(small))
    _run("data", "clean", "ward", "--set", "tokenizer=words")
    _run(*_commands("train", small, tiny_llama_folder, None)[:-2], "--max-steps", "2")
    finished = max(r["id"] for r in db["runs"].rows_where("kind = 'train'"))
    killed, kills = [], {"child": 0, "command": 0}
    for stage in PLAN:
        before = {r["id"] for r in db["runs"].rows_where("kind = 'train'")}
        proc = _cli(*_commands(stage, big, tiny_llama_folder, finished))
        kills[_kill_somewhere(proc, db, rng)] += 1
        _check_workspace()
        killed += [r["id"] for r in db["runs"].rows_where("kind = 'train'")
                   if r["id"] not in before]
    print(f"kills: {len(PLAN)} ({kills['child']} job children, {kills['command']} commands)")
    assert len(PLAN) >= 20
    for run_id in killed:
        if not json.loads(db["runs"].get(run_id)["summary"] or "{}").get("output"):
            _run("train-resume", str(run_id))
        summary = json.loads(db["runs"].get(run_id)["summary"] or "{}")
        assert summary.get("steps") == 16 and summary.get("output"), summary
    _check_workspace()
