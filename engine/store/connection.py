"""The one place that opens the workspace database.

Everything else receives a :class:`sqlite_utils.Database`. A plain workspace opens
with the standard sqlite3 module; an encrypted one (see :mod:`engine.store.keys`)
opens with SQLCipher 4 and the key this process holds for it. Both raise errors
that :data:`OperationalError` and :data:`DatabaseError` catch.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
import sqlite_utils

from engine import fsutil
from engine.store import keys, schema
from engine.store.keys import PassphraseRequired, WrongPassphrase

# Errors of either driver (sqlcipher3 has its own exception classes).
OperationalError = (sqlite3.OperationalError, sqlcipher.OperationalError)
DatabaseError = (sqlite3.DatabaseError, sqlcipher.DatabaseError)

__all__ = ["DatabaseError", "OperationalError", "PassphraseRequired", "StoreCorrupted",
           "WrongPassphrase", "open_store"]


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
    encrypted = keys.is_encrypted(path)
    key = keys.key_for(path) if encrypted else None
    if encrypted and key is None:
        raise PassphraseRequired(path)
    if key is None:
        conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=False,
                               isolation_level=None)
        keys.mark_plain(path)
    else:
        conn = cipher_connection(path, key)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def cipher_connection(path: Path, key: bytes, salt: bytes | None = None) -> sqlcipher.Connection:
    """An SQLCipher connection to ``path``.

    Args:
        path: An encrypted file, or a file to create (then ``salt`` is the one ``key``
            was derived with; SQLCipher writes it at the start of the file).
        key: The 32-byte key.
        salt: Only when creating.

    Raises:
        WrongPassphrase: if the key does not open an existing file.
    """
    conn = sqlcipher.connect(str(path), timeout=30.0, check_same_thread=False,
                             isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our error to explain
    conn.execute(f"PRAGMA key = {keys.pragma_value(key, salt)}")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as exc:
        conn.close()
        raise WrongPassphrase(path) from exc
    return conn


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except DatabaseError as exc:
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
        PassphraseRequired: if the file is encrypted and no key is held for it.
        WrongPassphrase: if the key held for it does not open it.
    """
    path = Path(path)
    fsutil.owner_only()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = _raw_connection(path)
    try:
        if check:
            _check_integrity(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not left
    except DatabaseError as exc:
        conn.close()
        raise StoreCorrupted(path, str(exc)) from exc
    except StoreCorrupted:
        conn.close()
        raise
    db = sqlite_utils.Database(conn)
    if migrate:
        schema.migrate(db, path)
    return db

