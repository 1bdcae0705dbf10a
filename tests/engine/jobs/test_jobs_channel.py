"""The job channel: progress, heartbeat and cancel never wait behind a data write; a job
whose process lives is never stale; a child killed alone is interrupted; Ctrl-C on a
command cancels its job within about two seconds, with one line and no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from engine import paths
from engine.store import jobs, open_store, projects
from engine.store.channel import JobChannel


def _wait(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_progress_and_heartbeat_flow_while_a_data_write_holds_the_lock(runner):
    updates = []
    runner.add_listener(updates.append)
    job = runner.submit("test.count", {"n": 80, "delay": 0.05})
    db = open_store(paths.workspace_db(), migrate=False, check=False)
    _wait(lambda: jobs.get(db, job)["state"] == "running", what="running")
    channel = JobChannel(paths.workspace_db())
    blocker = open_store(paths.workspace_db(), migrate=False, check=False)
    blocker.conn.execute("BEGIN IMMEDIATE")  # a long data write, as a big import had
    try:
        seen = len(updates)
        beat = channel.live([job])[job]["heartbeat"]
        time.sleep(3.0)
        assert len(updates) > seen + 10, "progress stopped while the workspace was locked"
        assert channel.live([job])[job]["heartbeat"] > beat
        assert jobs.get(db, job)["step"] > 0  # `enclave jobs` reads through the lock
    finally:
        blocker.conn.execute("ROLLBACK")
    row = runner.wait(job, timeout=60)
    assert row["state"] == jobs.SUCCEEDED and row["step"] == 80


def test_a_live_job_is_never_stale_however_old_its_heartbeat(runner):
    job = runner.submit("test.count", {"n": 200, "delay": 0.05})
    db = open_store(paths.workspace_db(), migrate=False, check=False)
    _wait(lambda: jobs.get(db, job)["state"] == "running", what="running")
    db.execute("UPDATE jobs SET heartbeat = 0 WHERE id = ?", [job])
    assert jobs.recover_stale(db) == []
    runner.cancel(job, grace_s=5)
    assert runner.wait(job, timeout=60)["state"] == jobs.CANCELLED


def test_a_child_killed_alone_is_interrupted_not_failed(runner):
    job = runner.submit("test.count", {"n": 10_000, "delay": 0.05})
    db = open_store(paths.workspace_db(), migrate=False, check=False)
    _wait(lambda: (jobs.get(db, job)["step"] or 0) >= 2, what="progress")
    os.kill(jobs.get(db, job)["pid"], signal.SIGKILL)
    row = runner.wait(job, timeout=60)
    assert row["state"] == jobs.INTERRUPTED and "signal 9" in row["error"]


def _big_export(path, count: int) -> None:
    with open(path, "w") as out:
        for i in range(count):
            out.write(json.dumps({"prompt": f"question {i} about item {i * 7} case {i * 13}",
                                  "response": f"answer {i} detail {i * 3}"}) + "\n")


def test_ctrl_c_cancels_an_import_within_two_seconds_without_a_traceback(tmp_path):
    db = open_store(paths.workspace_db())
    project = projects.create(db, "ward")
    source = tmp_path / "big.jsonl"
    _big_export(source, 150_000)
    cli = subprocess.Popen([sys.executable, "-m", "engine.cli", "data", "import", "ward",
                            str(source)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True, env=os.environ.copy())

    def reading() -> bool:
        rows = jobs.list_for_project(db, project)
        return bool(rows) and rows[0]["state"] == "running" and (rows[0]["step"] or 0) >= 10_000
    _wait(reading, what="the import to read 10,000 records")
    pressed = time.monotonic()
    os.killpg(cli.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
    out, err = cli.communicate(timeout=60)
    took = time.monotonic() - pressed
    assert took < 2.5, f"Ctrl-C took {took:.1f} s"
    assert cli.returncode == 130 and "Traceback" not in err + out
    assert err.strip().splitlines()[-1].startswith("enclave: import job ")
    assert "cancelled" in err.strip().splitlines()[-1]
    assert jobs.list_for_project(db, project)[0]["state"] == jobs.CANCELLED
    assert db["datasets"].count == 0 and db["records"].count == 0
