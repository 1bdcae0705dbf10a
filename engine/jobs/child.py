"""Entry point of a job's child process: ``python -m engine.jobs.child DB JOB_ID [--key-on-stdin]``.

With ``--key-on-stdin`` the workspace is encrypted and its key (hex) is the first line
of the standard input, written by the parent through a pipe.

The child marks its row running, keeps a heartbeat, sends progress events and polls
the cancel flag on the job channel (:mod:`engine.store.channel`, which no data write
can block), and writes the final state itself, retrying while the workspace is busy.
If it dies before that, the parent's supervisor settles the job. Ctrl-C in a terminal
reaches the whole process group: the child ignores it and lets the parent cancel it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
import time
import traceback
from pathlib import Path

import engine  # noqa: F401  (sets the offline switches first)
from engine import netwall, offline

if __name__ == "__main__":  # the walls go up before any library starts a thread
    WALLS = netwall.seal_job_process()

from engine.jobs.registry import JobContext, resolve  # noqa: E402
from engine.progress import Cancelled, Progress, Reporter  # noqa: E402
from engine.store import jobs, keys, open_store  # noqa: E402
from engine.store.channel import JobChannel
from engine.store.connection import OperationalError  # noqa: E402

HEARTBEAT_S = 2.0
CANCEL_POLL_S = 0.2
EVENT_MIN_GAP_S = 0.1
FINISH_RETRY_S = 600.0


class _ParentWatch:
    """Stops the job when the process that started it is gone."""

    def __init__(self) -> None:
        self.parent = os.getppid()

    def parent_gone(self) -> bool:
        return os.getppid() != self.parent


def _heartbeat(db_path: Path, job_id: int, stop: threading.Event) -> None:
    """Beat every HEARTBEAT_S until stopped; an error skips one beat, never ends the loop."""
    channel = None
    while not stop.wait(HEARTBEAT_S):
        try:
            channel = channel or JobChannel(db_path)
            channel.beat(job_id)
        except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
            channel = None


def _make_reporter(channel: JobChannel, job_id: int, watch: _ParentWatch) -> Reporter:
    state = {"last_event": 0.0, "last_poll": 0.0, "stop": False}

    def sink(event: Progress) -> None:
        now = time.monotonic()
        final = event.step >= event.total or bool(event.metrics)
        if final or now - state["last_event"] >= EVENT_MIN_GAP_S:
            state["last_event"] = now
            try:
                channel.event(job_id, event)
            except sqlite3.Error:
                pass  # progress is informative: a lost event never stops the job

    def stop_requested() -> bool:
        now = time.monotonic()
        if not state["stop"] and now - state["last_poll"] >= CANCEL_POLL_S:
            state["last_poll"] = now
            try:
                asked = channel.cancel_requested(job_id)
            except sqlite3.Error:
                asked = False
            state["stop"] = asked or watch.parent_gone()
        return state["stop"]

    return Reporter(sink, stop_requested)


def _settle(db, channel: JobChannel, job_id: int, state: str, **outcome) -> None:
    """Write the final state, retrying while the workspace is busy (the work is done)."""
    deadline = time.monotonic() + FINISH_RETRY_S
    progress = {}
    try:
        progress = channel.live([job_id]).get(job_id, {})
    except sqlite3.Error:
        pass
    while True:
        try:
            jobs.finish(db, job_id, state, progress=progress, **outcome)
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def explain(exc: BaseException) -> str:
    """One clear sentence for the user about why a job failed."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
        return (text + " — the job ran out of memory. Lower the batch size or the "
                "maximum sequence length, or use QLoRA / gradient checkpointing.")
    return text


def run(db_path: Path, job_id: int) -> int:
    """Run one job to its end; returns the process exit code."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    offline.block_network()
    db = open_store(db_path, migrate=False, check=False)
    row = jobs.get(db, job_id)
    watch = _ParentWatch()
    channel = JobChannel(db_path)
    channel.started(job_id, os.getpid())
    jobs.mark_running(db, job_id, os.getpid())
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(db_path, job_id, stop), daemon=True).start()
    ctx = JobContext(db, job_id, row["project_id"], row["params"],
                     _make_reporter(channel, job_id, watch))
    try:
        result = resolve(row["kind"])(ctx)
        _settle(db, channel, job_id, jobs.SUCCEEDED, result=result or {})
        return 0
    except Cancelled:
        state = jobs.INTERRUPTED if watch.parent_gone() else jobs.CANCELLED
        _settle(db, channel, job_id, state, error="Cancelled by the user."
                if state == jobs.CANCELLED else "The window or command that ran it stopped.")
        return 0
    except BaseException as exc:  # every failure must reach the user
        traceback.print_exc(file=sys.stderr)
        _settle(db, channel, job_id, jobs.FAILED, error=explain(exc))
        return 1
    finally:
        stop.set()


def _read_key(db_path: Path) -> None:
    """Take the workspace key from the first line of stdin (the parent's pipe)."""
    keys.remember(db_path, bytes.fromhex(sys.stdin.readline().strip()))
    sys.stdin.close()


if __name__ == "__main__":
    if "--key-on-stdin" in sys.argv[3:]:
        _read_key(Path(sys.argv[1]))
    print(f"network walls: {', '.join(WALLS['walls'])} ({WALLS['namespace_reason']})", flush=True)
    sys.exit(run(Path(sys.argv[1]), int(sys.argv[2])))
