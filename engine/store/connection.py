"""The one place that opens the workspace database.

Everything else receives a :class:`sqlite_utils.Database`. Swapping in an
encrypted SQLite (SQLCipher) means changing :func:`_raw_connection` only.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from engine.store import schema


class StoreCorrupted(RuntimeError):
    """The workspace file is damaged or is not an Enclave workspace."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"The workspace {path} cannot be opened safely: {detail}. "
            "Nothing was changed. Restore it from a backup (workspace.sqlite3.bak-v*) "
            "or point ENCLAVE_HOME at another folder."
        )
        self.path = path
        self.detail = detail


def _raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False,
                           isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreCorrupted(path, str(exc)) from exc
    problems = [row[0] for row in rows if row[0] != "ok"]
    if problems:
        raise StoreCorrupted(path, "integrity check failed: " + "; ".join(problems[:3]))


def open_store(path: Path, *, migrate: bool = True, check: bool = True) -> sqlite_utils.Database:
    """Open (and create or upgrade) a workspace database.

    Args:
        path: the SQLite file; its folder is created if missing.
        migrate: apply pending schema migrations.
        check: run the integrity check (once per process is enough).

    Returns:
        A sqlite-utils Database with WAL and foreign keys on.

    Raises:
        StoreCorrupted: if the file is not a database or fails its integrity check.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _raw_connection(path)
    try:
        if check:
            _check_integrity(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreCorrupted(path, str(exc)) from exc
    except StoreCorrupted:
        conn.close()
        raise
    db = sqlite_utils.Database(conn)
    if migrate:
        schema.migrate(db, path)
    return db

