"""Run one job from the command line: submit it, stream its progress, and let Ctrl-C
cancel it.

Ctrl-C asks the job to stop and kills its process after a short grace period, so the
command ends within about two seconds with one line and no traceback; what the stage
had half-written is removed (building versions, incomplete checkpoints). The previous
SIGINT handler is restored afterwards.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time

from engine import paths
from engine.cli.errors import CommandError
from engine.jobs.runner import JobRunner

CANCEL_GRACE_S = 1.0
EXIT_CANCELLED = 130


def print_event(update) -> None:
    """Print one progress update on stderr."""
    data = update.data
    if update.kind == "progress":
        metrics = " ".join(f"{k}={v:.4g}" for k, v in data["metrics"].items())
        print(f"[{data['stage']:>8}] {data['step']}/{data['total']} {data['message']} {metrics}",
              file=sys.stderr, flush=True)


def run_job(kind: str, params: dict, project_id: int | None, *, quiet: bool = False,
            what: str | None = None) -> tuple[int, dict]:
    """Run a job to its end and return ``(job id, result)``.

    Args:
        kind: A job kind of :data:`engine.jobs.registry.JOB_KINDS`.
        params: The job's parameters.
        project_id: Its project, if any.
        quiet: Print no progress (for ``--json``).
        what: How to name the job in messages (default: the kind).

    Raises:
        CommandError: when the job failed, was cancelled (exit code 130) or interrupted.
    """
    row = run_job_row(kind, params, project_id, quiet=quiet)
    job_id = row["id"]
    if row["state"] == "succeeded":
        return job_id, row["result"] or {}
    name = what or kind
    if row["state"] == "cancelled":
        raise CommandError(f"{name} job {job_id} cancelled; nothing half-written was kept.",
                           exit_code=EXIT_CANCELLED)
    raise CommandError(f"{name} job {job_id} {row['state']}: {row['error']}")


def run_job_row(kind: str, params: dict, project_id: int | None, *,
                quiet: bool = False) -> dict:
    """Run a job to its end (Ctrl-C cancels it) and return its final row, whatever
    its state."""

    runner = JobRunner(paths.workspace_db())
    if not quiet:
        runner.add_listener(print_event)
    job_id = runner.submit(kind, params, project_id)
    return _wait_with_ctrl_c(runner, job_id)


def _wait_with_ctrl_c(runner, job_id: int) -> dict:
    if threading.current_thread() is not threading.main_thread():
        return runner.wait(job_id)

    def on_ctrl_c(*_args) -> None:
        print(f"\nstopping job {job_id} …", file=sys.stderr, flush=True)
        runner.cancel(job_id, grace_s=CANCEL_GRACE_S)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        while job_id in runner.running():
            time.sleep(0.1)  # interruptible: Ctrl-C runs on_ctrl_c here
        return runner.wait(job_id)
    finally:
        signal.signal(signal.SIGINT, previous)


def job_outcome(params: dict, project_id: int | None, kind: str = "train") -> dict:
    """Run a job to its end and return ``{job_id, state, error, **result}`` whatever its
    state (the caller says what a failure means)."""
    row = run_job_row(kind, params, project_id)
    result = row.get("result") or {}
    if isinstance(result, str):
        result = json.loads(result or "{}")
    return {"job_id": row["id"], "state": row["state"], "error": row.get("error"), **result}
