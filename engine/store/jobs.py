"""Job rows in the workspace: kind, params, state, pid, result and error.

Live progress, heartbeat and cancel requests travel on the job channel
(:mod:`engine.store.channel`), which no data write can block; the final progress is
copied onto the row when the job ends.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import sqlite_utils

from engine.store import audit
from engine.store.channel import JobChannel
from engine.store.transactions import transaction

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "succeeded", "failed", "cancelled", "interrupted")
FINAL_STATES = {SUCCEEDED, FAILED, CANCELLED, INTERRUPTED}
LIVE_FIELDS = ("stage", "step", "total", "message", "heartbeat")


def create(db: sqlite_utils.Database, kind: str, params: dict,
           project_id: int | None = None) -> int:
    """Queue a job and return its id."""
    with transaction(db):
        job_id = db["jobs"].insert({"project_id": project_id, "kind": kind, "state": QUEUED,
                                    "params": json.dumps(params, default=str),
                                    "created_at": audit.now(),
                                    "cancel_requested": 0}).last_pk
        audit.record(db, "job.queue", f"job:{job_id}", kind=kind)
    return job_id


def get(db: sqlite_utils.Database, job_id: int) -> dict:
    """One job row with params and result decoded; a running job's progress and heartbeat
    come from the job channel."""
    row = db["jobs"].get(job_id)
    row["params"] = json.loads(row["params"] or "{}")
    row["result"] = json.loads(row["result"]) if row["result"] else None
    return _with_live(db, [row])[0]


def channel_of(db: sqlite_utils.Database) -> JobChannel:
    """The job channel beside the workspace ``db`` is a file of."""
    return JobChannel(Path(db.execute("PRAGMA database_list").fetchone()[2]))


def _with_live(db: sqlite_utils.Database, rows: list[dict]) -> list[dict]:
    running = [row["id"] for row in rows if row["state"] == RUNNING]
    if not running:
        return rows
    channel = channel_of(db)
    try:
        live = channel.live(running)
    finally:
        channel.close()
    for row in rows:
        found = live.get(row["id"])
        if found:
            row.update({key: found[key] for key in LIVE_FIELDS if found[key] is not None})
    return rows


def mark_running(db: sqlite_utils.Database, job_id: int, pid: int) -> None:
    """Record the process of a started job (a short write)."""
    with transaction(db):
        db["jobs"].update(job_id, {"state": RUNNING, "pid": pid, "heartbeat": time.time(),
                                   "started_at": audit.now()})


def finish(db: sqlite_utils.Database, job_id: int, state: str, *,
           error: str | None = None, result: dict | None = None,
           progress: dict | None = None) -> bool:
    """Move a job to a final state once; returns False if it already had one.

    Args:
        progress: The last live progress (stage, step, total, message, heartbeat) to keep
            on the job row.
    """
    assert state in FINAL_STATES, state
    with transaction(db):
        current = db.execute("SELECT state FROM jobs WHERE id = ?", [job_id]).fetchone()[0]
        if current in FINAL_STATES:
            return False
        done = {"state": state, "error": error, "finished_at": audit.now(),
                "result": json.dumps(result, default=str) if result is not None else None}
        done.update({key: value for key, value in (progress or {}).items()
                     if key in LIVE_FIELDS and value is not None})
        db["jobs"].update(job_id, done)
        audit.record(db, "job.finish", f"job:{job_id}", outcome=state,
                     error=(error or "")[:500])
    return True


def running_ids(db: sqlite_utils.Database) -> list[int]:
    """Ids of jobs queued or running."""
    return [row[0] for row in db.execute("SELECT id FROM jobs WHERE state IN (?, ?)",
                                         [QUEUED, RUNNING])]


def list_for_project(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """A project's jobs, newest first (running ones with their live progress)."""
    return _with_live(db, list(db["jobs"].rows_where("project_id = ?", [project_id],
                                                     order_by="id desc")))


def list_all(db: sqlite_utils.Database) -> list[dict]:
    """Every job of the workspace, newest first (running ones with their live progress)."""
    return _with_live(db, list(db["jobs"].rows_where(order_by="id desc")))


def _is_job_process(pid: int | None, job_id: int) -> bool:
    """Whether ``pid`` is alive and (where /proc tells) is the child running this job."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS, Windows): a live pid is taken as the job
    return b"engine.jobs.child" in args and str(job_id).encode() in args


def recover_stale(db: sqlite_utils.Database) -> list[int]:
    """Mark running jobs whose process is gone as interrupted (resumable).

    A job whose process is alive is never declared stale, however long its last
    heartbeat is ago. Called at start-up of the window and of the command line.

    Returns:
        The ids of the jobs that became interrupted.
    """
    stale = [row["id"] for row in db["jobs"].rows_where("state = ?", [RUNNING])
             if not _is_job_process(row["pid"], row["id"])]
    for job_id in stale:
        finish(db, job_id, INTERRUPTED,
               error="Enclave stopped while this job ran; start it again to resume.")
    return stale
