"""Starts jobs in child processes and supervises them.

The runner only supervises: it relays progress events from the job channel to
listeners, enforces cancel (cooperative first, a kill after the grace period)
and settles a child that died without a final state: cancelled when a cancel was
asked for, interrupted (resumable) when a signal killed it, failed otherwise.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine import netwall_cluster, paths
from engine.store import audit, datasets, jobs, keys, open_store
from engine.store.channel import JobChannel

POLL_S = 0.2
KEY_ON_STDIN = "--key-on-stdin"
DEFAULT_GRACE_S = 10.0


@dataclass
class JobUpdate:
    """What listeners receive: a progress event or the final job row."""

    job_id: int
    kind: str  # "progress" or "finished"
    data: dict = field(default_factory=dict)


Listener = Callable[[JobUpdate], None]


def _log_tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


class JobRunner:
    """Runs jobs of one workspace.

    Args:
        db_path: the workspace file (each thread opens its own connection).
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self._listeners: list[Listener] = []
        self._procs: dict[int, subprocess.Popen] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._kill_at: dict[int, float] = {}
        self._lock = threading.Lock()
        db = self._db()
        self.recovered = jobs.recover_stale(db)
        self.swept = datasets.sweep_building(db, jobs.running_ids(db))

    def _db(self):
        return open_store(self.db_path, migrate=False, check=False)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` (from a supervisor thread) for every update."""
        self._listeners.append(listener)

    def submit(self, kind: str, params: dict | None = None,
               project_id: int | None = None) -> int:
        """Queue a job and start it at once; returns the job id."""
        job_id = jobs.create(self._db(), kind, params or {}, project_id)
        self.start(job_id)
        return job_id

    def start(self, job_id: int) -> None:
        """Start a queued job's child process and its supervisor thread."""
        log_dir = paths.home() / "logs"
        log_dir.mkdir(exist_ok=True)
        log_path = log_dir / f"job-{job_id}.log"
        key = keys.key_for(self.db_path)
        command = [sys.executable, "-P", "-m", "engine.jobs.child", str(self.db_path), str(job_id)]
        opening = self._network_opening(job_id)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                # -P: import the installed Enclave, never an `engine` folder in the cwd.
                command + ([KEY_ON_STDIN] if key else []),
                stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE if key else subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1",
                     netwall_cluster.CLUSTER_ENV: ",".join(opening)})
        if key:  # the key goes through a pipe, never on the command line or in the environment
            proc.stdin.write(key.hex().encode("ascii") + b"\n")
            proc.stdin.close()
        thread = threading.Thread(target=self._supervise, args=(job_id, proc, log_path),
                                  name=f"job-{job_id}", daemon=True)
        with self._lock:
            self._procs[job_id] = proc
            self._threads[job_id] = thread
        thread.start()

    def _network_opening(self, job_id: int) -> tuple[str, ...]:
        """The cluster addresses a job's walls admit (a training run on several machines that
        names them; nothing for any other job), recorded in the audit log when granted."""
        db = self._db()
        row = jobs.get(db, job_id)
        launch = row["params"].get("launch")
        if row["kind"] == netwall_cluster.TRAIN_KIND and row["params"].get("run_id"):
            run = next(db["runs"].rows_where("id = ?", [row["params"]["run_id"]]), {})
            launch = json.loads(run.get("recipe") or "{}").get("launch")  # a resume's plan
        opening = netwall_cluster.cluster_opening(row["kind"], launch)
        if opening:
            audit.record(db, "network.cluster_opened", f"job:{job_id}",
                         project_id=row["project_id"], addresses=list(opening),
                         machines=launch["machines"], main_address=launch["main_address"],
                         main_port=launch.get("main_port"))
        return opening

    def cancel(self, job_id: int, grace_s: float = DEFAULT_GRACE_S) -> None:
        """Ask a job to stop; kill its process if it has not stopped after ``grace_s``."""
        channel = JobChannel(self.db_path)
        try:
            channel.request_cancel(job_id)
        finally:
            channel.close()
        with self._lock:
            self._kill_at[job_id] = time.monotonic() + grace_s

    def wait(self, job_id: int, timeout: float | None = None) -> dict:
        """Block until a job's supervisor has finished; returns the job row."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)
        return jobs.get(self._db(), job_id)

    def running(self) -> list[int]:
        """Ids of jobs whose supervisor is still running."""
        return [j for j, t in self._threads.items() if t.is_alive()]

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Cancel every running job and wait for them (used when the window closes)."""
        for job_id in self.running():
            self.cancel(job_id, grace_s)
        for job_id in list(self._threads):
            self.wait(job_id)

    def _emit(self, update: JobUpdate) -> None:
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:  # a broken listener must not kill supervision
                import logging
                logging.getLogger(__name__).exception("job listener failed")

    def _relay(self, channel: JobChannel, job_id: int, last: int) -> int:
        try:
            events = channel.events_after(job_id, last)
        except sqlite3.Error:
            return last  # relayed at the next poll
        for event in events:
            last = event["id"]
            self._emit(JobUpdate(job_id, "progress", event))
        return last

    def _supervise(self, job_id: int, proc: subprocess.Popen, log_path: Path) -> None:
        channel = JobChannel(self.db_path)
        last = 0
        while proc.poll() is None:
            last = self._relay(channel, job_id, last)
            kill_at = self._kill_at.get(job_id)
            if kill_at is not None and time.monotonic() > kill_at:
                proc.kill()
            time.sleep(POLL_S)
        self._relay(channel, job_id, last)
        db = self._db()
        try:
            progress = channel.live([job_id]).get(job_id)
        except sqlite3.Error:
            progress = None
        self._settle(db, job_id, proc.returncode, log_path, progress)
        row = jobs.get(db, job_id)
        if row["state"] != jobs.SUCCEEDED:
            datasets.discard_job(db, job_id)
        try:
            channel.forget(job_id)
        except sqlite3.Error:
            pass  # left for the file to carry; nothing reads a finished job's events
        channel.close()
        self._emit(JobUpdate(job_id, "finished", row))

    def _settle(self, db, job_id: int, code: int, log_path: Path,
                progress: dict | None) -> None:
        """Settle a job its child left without a final state (finish() keeps a final one)."""
        if job_id in self._kill_at and code != 0:
            jobs.finish(db, job_id, jobs.CANCELLED, progress=progress,
                        error="Cancelled by the user (stopped after the grace period).")
            return
        if code < 0:
            jobs.finish(db, job_id, jobs.INTERRUPTED, progress=progress,
                        error=f"The job process was stopped by signal {-code}; start it "
                              "again to resume.")
            return
        tail = _log_tail(log_path)
        jobs.finish(db, job_id, jobs.FAILED, progress=progress,
                    error=f"The job process ended unexpectedly (exit code {code}). "
                          f"Last output:\n{tail}" if tail else
                          f"The job process ended unexpectedly (exit code {code}).")
