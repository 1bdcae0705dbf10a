"""Job rows: state, pid, heartbeat, progress, and the stored progress events."""

from __future__ import annotations

import json
import os
import time

import sqlite_utils

from engine.progress import Progress
from engine.store import audit
from engine.store.transactions import transaction

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED = (
    "queued", "running", "succeeded", "failed", "cancelled", "interrupted")
FINAL_STATES = {SUCCEEDED, FAILED, CANCELLED, INTERRUPTED}
STALE_AFTER_S = 30.0


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
    """One job row with params and result decoded."""
    row = db["jobs"].get(job_id)
    row["params"] = json.loads(row["params"] or "{}")
    row["result"] = json.loads(row["result"]) if row["result"] else None
    return row


def mark_running(db: sqlite_utils.Database, job_id: int, pid: int) -> None:
    db["jobs"].update(job_id, {"state": RUNNING, "pid": pid, "heartbeat": time.time(),
                               "started_at": audit.now()})


def beat(db: sqlite_utils.Database, job_id: int) -> None:
    """Refresh the heartbeat of a running job."""
    db.execute("UPDATE jobs SET heartbeat = ? WHERE id = ?", [time.time(), job_id])


def finish(db: sqlite_utils.Database, job_id: int, state: str, *,
           error: str | None = None, result: dict | None = None) -> bool:
    """Move a job to a final state once; returns False if it already had one."""
    assert state in FINAL_STATES, state
    with transaction(db):
        current = db.execute("SELECT state FROM jobs WHERE id = ?", [job_id]).fetchone()[0]
        if current in FINAL_STATES:
            return False
        db["jobs"].update(job_id, {"state": state, "error": error,
                                   "finished_at": audit.now(),
                                   "result": json.dumps(result, default=str)
                                   if result is not None else None})
        audit.record(db, "job.finish", f"job:{job_id}", outcome=state,
                     error=(error or "")[:500])
    return True


def request_cancel(db: sqlite_utils.Database, job_id: int) -> None:
    """Ask a job to stop at its next safe point."""
    db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", [job_id])


def cancel_requested(db: sqlite_utils.Database, job_id: int) -> bool:
    row = db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", [job_id]).fetchone()
    return bool(row and row[0])


def add_event(db: sqlite_utils.Database, job_id: int, event: Progress) -> None:
    """Store a progress event and mirror it on the job row."""
    with transaction(db):
        db["job_events"].insert({"job_id": job_id, "time": event.time, "stage": event.stage,
                                 "step": event.step, "total": event.total,
                                 "message": event.message,
                                 "metrics": json.dumps(event.metrics, default=float)})
        db["jobs"].update(job_id, {"stage": event.stage, "step": event.step,
                                   "total": event.total, "message": event.message,
                                   "heartbeat": time.time()})


def events_after(db: sqlite_utils.Database, job_id: int, after_id: int) -> list[dict]:
    """Events of a job newer than ``after_id``, oldest first."""
    rows = list(db["job_events"].rows_where("job_id = ? AND id > ?", [job_id, after_id],
                                            order_by="id"))
    for row in rows:
        row["metrics"] = json.loads(row["metrics"] or "{}")
    return rows


def running_ids(db: sqlite_utils.Database) -> list[int]:
    """Ids of jobs queued or running."""
    return [row[0] for row in db.execute("SELECT id FROM jobs WHERE state IN (?, ?)",
                                         [QUEUED, RUNNING])]


def list_for_project(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    return list(db["jobs"].rows_where("project_id = ?", [project_id], order_by="id desc"))


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_stale(db: sqlite_utils.Database, stale_after_s: float = STALE_AFTER_S) -> list[int]:
    """Mark running jobs whose process is gone or silent as interrupted.

    Called at start-up of the window and of the command line.

    Returns:
        The ids of the jobs that became interrupted.
    """
    now = time.time()
    stale = [row["id"] for row in db["jobs"].rows_where("state = ?", [RUNNING])
             if not _pid_alive(row["pid"]) or now - (row["heartbeat"] or 0) > stale_after_s]
    for job_id in stale:
        finish(db, job_id, INTERRUPTED,
               error="Enclave stopped while this job ran; start it again to resume.")
    return stale
