import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from engine import paths
from engine.jobs.registry import UnknownJobKind, resolve
from engine.jobs.runner import JobRunner
from engine.store import jobs, open_store, projects


def test_job_reports_progress_to_store_and_listeners(runner):
    updates = []
    runner.add_listener(updates.append)
    job = runner.submit("test.count", {"n": 5, "delay": 0.01})
    row = runner.wait(job, timeout=60)
    assert row["state"] == jobs.SUCCEEDED and row["result"] == {"counted": 5}
    assert row["pid"] and row["heartbeat"] and row["finished_at"]
    progress = [u for u in updates if u.kind == "progress"]
    assert progress[-1].data["step"] == 5 and progress[-1].data["total"] == 5
    assert progress[-1].data["metrics"] == {"value": 5.0}
    assert updates[-1].kind == "finished" and updates[-1].data["state"] == "succeeded"


def test_cancel_is_cooperative(runner):
    job = runner.submit("test.count", {"n": 10_000, "delay": 0.01})
    _wait_for_step(job, 3)
    runner.cancel(job, grace_s=30)
    row = runner.wait(job, timeout=60)
    assert row["state"] == jobs.CANCELLED and row["error"] == "Cancelled by the user."


def test_job_that_ignores_cancel_is_killed_after_grace(runner):
    job = runner.submit("test.stubborn")
    _wait_for_step(job, 2)
    runner.cancel(job, grace_s=0.5)
    row = runner.wait(job, timeout=60)
    assert row["state"] == jobs.CANCELLED and "grace period" in row["error"]


def test_exception_in_child_marks_failed_with_message(runner):
    job = runner.submit("test.crash", {"message": "bad column 'label'"})
    row = runner.wait(job, timeout=60)
    assert row["state"] == jobs.FAILED
    assert row["error"] == "ValueError: bad column 'label'"


def test_child_dying_hard_marks_failed(runner):
    job = runner.submit("test.abort", {"code": 9})
    row = runner.wait(job, timeout=60)
    assert row["state"] == jobs.FAILED and "exit code 9" in row["error"]


def test_unknown_kind_is_refused():
    with pytest.raises(UnknownJobKind, match="Unknown job kind 'os.system'"):
        resolve("os.system")


def test_killed_runner_leaves_job_interrupted_at_next_start():
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "p")
    script = textwrap.dedent(f"""
        import time
        from engine import paths
        from engine.jobs.runner import JobRunner
        runner = JobRunner(paths.workspace_db())
        runner.submit("test.count", {{"n": 100000, "delay": 0.05}}, {pid})
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    _wait_for_state(db, "running")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 30
    while time.time() < deadline and jobs.list_for_project(db, pid)[0]["state"] == "running":
        time.sleep(0.1)
    runner = JobRunner(paths.workspace_db())
    row = jobs.list_for_project(db, pid)[0]
    assert row["state"] == jobs.INTERRUPTED
    assert runner.running() == []


def test_stale_running_row_becomes_interrupted():
    db = open_store(paths.workspace_db())
    job = jobs.create(db, "test.count", {})
    jobs.mark_running(db, job, pid=2**22 + 12345)
    assert jobs.recover_stale(db) == [job]
    assert jobs.get(db, job)["state"] == jobs.INTERRUPTED


def _wait_for_step(job_id: int, step: int) -> None:
    db = open_store(paths.workspace_db(), migrate=False)
    deadline = time.time() + 60
    while time.time() < deadline:
        if (jobs.get(db, job_id)["step"] or 0) >= step:
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached step {step}")


def _wait_for_state(db, state: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if db["jobs"].count_where("state = ?", [state]):
            return
        time.sleep(0.05)
    raise AssertionError(f"no job reached {state}")


def test_a_real_install_knows_no_test_job_kinds():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ENCLAVE_TEST_JOB_KINDS"}
    code = ("from engine.jobs.registry import JOB_KINDS, UnknownJobKind, resolve\n"
            "assert not [k for k in JOB_KINDS if k.startswith(('test', 'selftest'))]\n"
            "try:\n    resolve('test.count')\nexcept UnknownJobKind:\n    print('refused')\n")
    out = subprocess.run([sys.executable, "-P", "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.strip() == "refused", out.stderr
