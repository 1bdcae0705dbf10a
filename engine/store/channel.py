"""The job channel: live progress, heartbeat and cancel requests of running jobs.

It is a small SQLite file beside the workspace (``jobs-channel.sqlite3``) that holds
nothing but job traffic: every write is one short autocommitted row, and no data
write of any stage ever takes its lock. So a long import, a clean or a training
step can never hold up a heartbeat, a progress event or a cancel, and reading it
(``enclave jobs``, the window) never waits behind data.

The workspace keeps the durable job rows (queued, running, final state, result).

Progress messages can hold text (the chat job streams its answers through them), so the
channel of an encrypted workspace is encrypted with the same key (SQLCipher, its own
salt); its errors are raised as the standard ``sqlite3`` ones, which callers catch.
Deleted traffic is overwritten (``secure_delete``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher

from engine.progress import Progress
from engine.store import keys
from engine.store.connection import cipher_connection

FILE_NAME = "jobs-channel.sqlite3"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS live (job_id INTEGER PRIMARY KEY, pid INTEGER, "
    "heartbeat REAL, stage TEXT, step INTEGER, total INTEGER, message TEXT, "
    "cancel_requested INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, "
    "time REAL, stage TEXT, step INTEGER, total INTEGER, message TEXT, metrics TEXT)",
    "CREATE INDEX IF NOT EXISTS events_job ON events (job_id, id)",
)
_EVENT_COLUMNS = ("id", "job_id", "time", "stage", "step", "total", "message", "metrics")
_LIVE_COLUMNS = ("job_id", "pid", "heartbeat", "stage", "step", "total", "message",
                 "cancel_requested")


class _Translated:
    """A connection, or a cursor, whose SQLCipher errors come out as ``sqlite3`` errors."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, name: str):
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            try:
                result = attribute(*args, **kwargs)
            except sqlcipher.Error as exc:
                raise getattr(sqlite3, type(exc).__name__, sqlite3.Error)(str(exc)) from exc
            return _Translated(result) if isinstance(result, sqlcipher.Cursor) else result

        return call


def _connect(path: Path, workspace: Path):
    key = keys.key_for(workspace)
    if key is None:
        return sqlite3.connect(str(path), timeout=5.0, isolation_level=None,
                               check_same_thread=False)
    if keys.is_encrypted(path):
        return _Translated(cipher_connection(path, key))
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)  # plain traffic from before the workspace was encrypted
    conn = cipher_connection(path, key, keys.new_salt())
    conn.execute("PRAGMA journal_mode = WAL")  # writes the first page (and the salt) now
    keys.reread(path)
    return _Translated(conn)


def path_for(workspace: Path) -> Path:
    """The channel file of a workspace file."""
    return Path(workspace).with_name(FILE_NAME)


class JobChannel:
    """The channel of one workspace; each thread or process opens its own.

    Args:
        workspace: The workspace database file (the channel lives beside it).
    """

    def __init__(self, workspace: Path) -> None:
        self.path = path_for(workspace)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = _connect(self.path, workspace)
        self.conn.execute("PRAGMA busy_timeout = 5000")
        self.conn.execute("PRAGMA secure_delete = ON")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        for statement in _SCHEMA:
            self.conn.execute(statement)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def started(self, job_id: int, pid: int) -> None:
        """A job's process is running (keeps a cancel asked for before it started)."""
        self.conn.execute("INSERT INTO live (job_id, pid, heartbeat) VALUES (?, ?, ?) "
                          "ON CONFLICT (job_id) DO UPDATE SET pid = excluded.pid, "
                          "heartbeat = excluded.heartbeat", [job_id, pid, time.time()])

    def beat(self, job_id: int) -> None:
        """Refresh the heartbeat of a running job."""
        self.conn.execute("UPDATE live SET heartbeat = ? WHERE job_id = ?", [time.time(), job_id])

    def event(self, job_id: int, event: Progress) -> None:
        """Store a progress event and mirror it on the job's live row."""
        self.conn.execute(
            "INSERT INTO events (job_id, time, stage, step, total, message, metrics) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [job_id, event.time, event.stage, event.step, event.total, event.message,
             json.dumps(event.metrics, default=float)])
        self.conn.execute("UPDATE live SET stage = ?, step = ?, total = ?, message = ?, "
                          "heartbeat = ? WHERE job_id = ?",
                          [event.stage, event.step, event.total, event.message, time.time(),
                           job_id])

    def events_after(self, job_id: int, after_id: int) -> list[dict]:
        """Events of a job newer than ``after_id``, oldest first."""
        rows = self.conn.execute(f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events "
                                 "WHERE job_id = ? AND id > ? ORDER BY id",
                                 [job_id, after_id]).fetchall()
        out = [dict(zip(_EVENT_COLUMNS, row)) for row in rows]
        for row in out:
            row["metrics"] = json.loads(row["metrics"] or "{}")
        return out

    def request_cancel(self, job_id: int) -> None:
        """Ask a job to stop at its next safe point (also before its process started)."""
        self.conn.execute("INSERT INTO live (job_id, cancel_requested) VALUES (?, 1) "
                          "ON CONFLICT (job_id) DO UPDATE SET cancel_requested = 1", [job_id])

    def cancel_requested(self, job_id: int) -> bool:
        """Whether a cancel was asked for."""
        row = self.conn.execute("SELECT cancel_requested FROM live WHERE job_id = ?",
                                [job_id]).fetchone()
        return bool(row and row[0])

    def forget(self, job_id: int) -> None:
        """Drop a finished job's traffic (its final progress is on the workspace row)."""
        self.conn.execute("DELETE FROM events WHERE job_id = ?", [job_id])
        self.conn.execute("DELETE FROM live WHERE job_id = ?", [job_id])

    def live(self, job_ids: list[int]) -> dict[int, dict]:
        """The live rows (pid, heartbeat, stage, step, total, message) of some jobs."""
        if not job_ids:
            return {}
        marks = ",".join("?" * len(job_ids))
        rows = self.conn.execute(f"SELECT {', '.join(_LIVE_COLUMNS)} FROM live "
                                 f"WHERE job_id IN ({marks})", list(job_ids)).fetchall()
        return {row[0]: dict(zip(_LIVE_COLUMNS, row)) for row in rows}
