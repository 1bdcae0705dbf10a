"""Encrypting a workspace: create one, unlock it, convert a plain one, change its passphrase.

Conversions copy the whole database into a new SQLCipher file beside it
(``sqlcipher_export``), check that the copy opens and holds the same rows, then rename
it over the old file. The old file is kept as a backup until the copy is proven, then
overwritten with zeros and removed, so that no readable copy stays beside an encrypted
workspace; migration backups (``*.bak-v*``) are converted the same way.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher

from engine import fsutil
from engine.store import channel, keys
from engine.store.connection import cipher_connection
from engine.store.keys import WrongPassphrase

__all__ = ["WrongPassphrase", "create", "encrypt", "rekey", "unlock"]


class ConversionRefused(RuntimeError):
    """A workspace that cannot be converted now (already encrypted, jobs running...)."""


def unlock(path: Path, passphrase: str) -> None:
    """Check the passphrase against an encrypted workspace and hold its key.

    Raises:
        WrongPassphrase: if it does not open the file (nothing is changed).
    """
    key = keys.derive(passphrase, keys.file_salt(path))
    cipher_connection(Path(path), key).close()
    keys.remember(path, key)


def create(path: Path, passphrase: str) -> None:
    """Create a new, empty encrypted workspace file and hold its key.

    Raises:
        ConversionRefused: if ``path`` already holds data.
    """
    path = Path(path)
    fsutil.owner_only()
    if path.exists() and path.stat().st_size:
        raise ConversionRefused(f"{path} exists already; use `enclave workspace encrypt`.")
    salt = keys.new_salt()
    key = keys.derive(passphrase, salt)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = cipher_connection(path, key, salt)
    conn.execute("PRAGMA journal_mode = WAL")  # writes the first page (and the salt)
    conn.close()
    keys.reread(path)
    keys.remember(path, key)


def encrypt(path: Path, passphrase: str) -> dict:
    """Convert a plain workspace (and its migration backups) to SQLCipher, in place.

    Returns:
        The files converted and the rows checked.

    Raises:
        ConversionRefused: if the workspace is missing or already encrypted.
    """
    path = Path(path)
    if not path.exists() or keys.is_encrypted(path):
        raise ConversionRefused(f"{path} is {'already encrypted' if path.exists() else 'missing'}"
                                "; nothing was changed.")
    fsutil.owner_only()
    files = [path, *_backups(path)]
    rows = 0
    for item in files:
        if not keys.is_encrypted(item):
            rows += _convert(item, None, passphrase)
    traffic = channel.path_for(path)
    for item in (traffic, traffic.with_name(traffic.name + "-wal"),
                 traffic.with_name(traffic.name + "-shm")):
        _shred(item)  # past progress text; the next job starts an encrypted channel
    keys.remember(path, keys.derive(passphrase, keys.file_salt(path)))
    return {"files": [str(item) for item in files], "rows": rows}


def rekey(path: Path, old: str, new: str) -> dict:
    """Change the passphrase of an encrypted workspace (and of its backups), in place.

    Raises:
        WrongPassphrase: if ``old`` does not open the workspace (nothing is changed).
        ConversionRefused: if the workspace is not encrypted.
    """
    path = Path(path)
    if not keys.is_encrypted(path):
        raise ConversionRefused(f"{path} is not encrypted; use `enclave workspace encrypt`.")
    unlock(path, old)
    files = [path, *(item for item in _backups(path) if keys.is_encrypted(item))]
    rows = sum(_convert(item, keys.derive(old, keys.file_salt(item)), new) for item in files)
    keys.remember(path, keys.derive(new, keys.file_salt(path)))
    return {"files": [str(item) for item in files], "rows": rows}


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".bak-v*"))


def _open_source(path: Path, key: bytes | None):
    if key is None:
        conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return sqlcipher.connect(str(path), isolation_level=None)
    conn = cipher_connection(path, key)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return conn


def _convert(path: Path, old_key: bytes | None, passphrase: str) -> int:
    """Copy ``path`` into a new file under ``passphrase``, check it, and swap it in."""
    target = path.with_name(path.name + ".converting")
    backup = path.with_name(path.name + ".before-conversion")
    _remove(target)
    salt = keys.new_salt()
    key = keys.derive(passphrase, salt)
    source = _open_source(path, old_key)
    try:
        version = source.execute("PRAGMA user_version").fetchone()[0]
        counts = _counts(source)
        source.execute(f"ATTACH DATABASE ? AS converted KEY {keys.pragma_value(key, salt)}",
                       [str(target)])
        source.execute("SELECT sqlcipher_export('converted')")
        source.execute(f"PRAGMA converted.user_version = {int(version)}")
        source.execute("DETACH DATABASE converted")
    finally:
        source.close()
    check = cipher_connection(target, key)
    try:
        if _counts(check) != counts:
            raise ConversionRefused(f"{path}: the encrypted copy differs; nothing was changed.")
    finally:
        check.close()
    os.link(path, backup)  # the backup: the old file stays reachable until the swap is done
    os.replace(target, path)
    keys.reread(path)
    for suffix in ("-wal", "-shm"):
        _shred(path.with_name(path.name + suffix))
    _shred(backup)
    return sum(counts.values())


def _counts(conn) -> dict[str, int]:
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in tables}


def _shred(path: Path) -> None:
    """Overwrite a file with zeros, then remove it (best effort on copy-on-write disks)."""
    if not path.exists():
        return
    if path.stat().st_nlink == 1:
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
    path.unlink()


def _remove(path: Path) -> None:
    if path.exists():
        path.unlink()
