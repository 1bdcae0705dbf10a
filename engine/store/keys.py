"""Workspace keys: a passphrase becomes a 256-bit SQLCipher key, held in this process only.

The key is derived with scrypt from the passphrase and a 16-byte salt. SQLCipher keeps
that salt in the first 16 bytes of the encrypted file, so nothing else is stored beside
the workspace. The derived (raw) key is what the store uses and what job processes
receive through a pipe; the passphrase itself is never kept or passed on.

A file is taken for encrypted when it does not start with the plain SQLite header and
is made of whole pages (SQLCipher writes pages of 512 bytes or a multiple); any other
file is left to SQLite, which reports it as damaged.

The header is read once per process and file, before the first connection, and then
remembered: opening and closing a database file beside SQLite's own connections would
drop the POSIX locks those connections hold (closing any descriptor of a file releases
all of a process's locks on it), and another process could then write under them.
Conversions (:mod:`engine.store.encryption`) update what is remembered.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
SALT_BYTES = 16
KEY_BYTES = 32
# scrypt cost: about 0.1 s and 16 MiB on a workstation, once per process and unlock.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1

_keys: dict[str, bytes] = {}
_headers: dict[str, tuple[bool, bytes]] = {}  # path -> (encrypted, salt), read once
_lock = threading.Lock()


class PassphraseRequired(RuntimeError):
    """The workspace is encrypted and this process holds no key for it."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"The workspace {path} is encrypted: give its passphrase "
                         "(the window asks for it; on the command line use "
                         "--passphrase-file FILE or answer the prompt).")
        self.path = path


class WrongPassphrase(ValueError):
    """The passphrase does not open the workspace; nothing was changed."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"The passphrase does not open the workspace {path}. "
                         "Nothing was changed; try again.")
        self.path = path


def _name(path: Path) -> str:
    return str(Path(path).resolve())


def _read_header(path: Path) -> tuple[bool, bytes] | None:
    try:
        size = os.path.getsize(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if size < 512 or size % 512:  # empty (a WAL workspace before its first checkpoint) or
        return False, b""         # not whole pages: never opened here
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    return head != SQLITE_HEADER, head[:SALT_BYTES]


def _header(path: Path) -> tuple[bool, bytes]:
    name = _name(path)
    with _lock:
        known = _headers.get(name)
    if known is not None:
        return known
    found = _read_header(path)
    if found is None:
        return False, b""  # not created yet: asked again next time
    with _lock:
        _headers[name] = found
    return found


def is_encrypted(path: Path) -> bool:
    """Whether ``path`` is an encrypted (SQLCipher) workspace file."""
    return _header(path)[0]


def file_salt(path: Path) -> bytes:
    """The salt SQLCipher stored at the start of an encrypted file."""
    return _header(path)[1]


def mark_plain(path: Path) -> None:
    """Remember that ``path`` is a plain workspace (a plain connection to it is open).

    Once this process holds a connection, its header must never be read again with
    open()/close(): closing any descriptor of the file drops every POSIX lock the process
    holds on it, and another process could then write under our readers (the way SQLite
    files get corrupted). A new plain workspace whose pages still sit in the WAL would
    otherwise be read again at each open."""
    with _lock:
        _headers[_name(path)] = (False, b"")


def reread(path: Path) -> None:
    """Forget what was remembered of a file's header (it was just converted or created;
    no connection of this process may be open on it)."""
    with _lock:
        _headers.pop(_name(path), None)


def new_salt() -> bytes:
    """A fresh random salt for a new encrypted file."""
    return os.urandom(SALT_BYTES)


def derive(passphrase: str, salt: bytes) -> bytes:
    """The 256-bit key of a passphrase (scrypt)."""
    if not passphrase:
        raise ValueError("The passphrase is empty.")
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                          p=SCRYPT_P, maxmem=64 * 1024 * 1024, dklen=KEY_BYTES)


def pragma_value(key: bytes, salt: bytes | None = None) -> str:
    """The ``PRAGMA key`` value of a raw key (with the salt of a file to be created)."""
    return f"\"x'{key.hex()}{salt.hex() if salt else ''}'\""


def remember(path: Path, key: bytes) -> None:
    """Hold the key of a workspace for this process (job processes get it from a pipe)."""
    if len(key) != KEY_BYTES:
        raise ValueError("A workspace key has 32 bytes.")
    with _lock:
        _keys[_name(path)] = bytes(key)


def forget(path: Path) -> None:
    """Drop the key of a workspace (the window's lock does this)."""
    with _lock:
        _keys.pop(_name(path), None)


def key_for(path: Path) -> bytes | None:
    """The key this process holds for a workspace, if any."""
    with _lock:
        return _keys.get(_name(path))


def read_passphrase_file(path: Path) -> str:
    """A passphrase from the first line of a file (trailing newline removed).

    Raises:
        ValueError: if the file is missing or its first line is empty.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the passphrase file ({exc.strerror}).") from exc
    line = text.splitlines()[0] if text else ""
    if not line:
        raise ValueError(f"{path}, line 1: the passphrase file is empty.")
    return line
