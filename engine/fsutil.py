"""Files and folders: owner-only permissions, atomic writes of model folders (a folder
counts only once complete), and the size of a folder.

A new folder is written beside its target under a temporary name and renamed into
place without replacing anything: where the target appeared meanwhile (a folder the
user made), the rename fails and the user's folder stays as it is. Only folders that
Enclave owns (a run's best weights, its checkpoints) are replaced, when asked.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Callable

SYSTEM_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


class UnsafeTarget(ValueError):
    """A folder Enclave will not write: a system path, or one that exists already."""


def check_target(target: str | Path) -> Path:
    """Refuse a target under /proc, /sys or /dev, or the filesystem root or a folder in it.

    Args:
        target: Where a folder is to be written.

    Returns:
        The target, absolute.

    Raises:
        UnsafeTarget: Saying why the place is refused.
    """
    resolved = Path(target).expanduser().resolve()
    anchor = Path(resolved.anchor)
    if resolved == anchor or resolved.parent == anchor:
        raise UnsafeTarget(f"{target}: Enclave does not write into the filesystem root; "
                           "choose a folder in your home or data folder")
    for root in SYSTEM_ROOTS:
        if resolved == root or resolved.is_relative_to(root):
            raise UnsafeTarget(f"{target}: {root} is a system folder, not a place for files; "
                               "choose a folder in your home or data folder")
    return resolved


def write_folder_atomically(target: Path, write: Callable[[Path], None], *,
                            replace: bool = False) -> Path:
    """Write a folder beside ``target`` under a temporary name, then rename it into place.

    Args:
        target: The folder to create.
        write: Writes the folder's files into the folder it is given.
        replace: Replace an existing ``target`` once the new folder is complete; only for
            folders Enclave owns. By default the target is created exclusively.

    Returns:
        ``target``.

    Raises:
        UnsafeTarget: If ``target`` is a system path, or (without ``replace``) exists,
            before or by the time the folder is complete; it is left untouched.
    """
    target = Path(target)
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    try:
        temporary.mkdir()
        write(temporary)
        if replace and target.exists():
            target.rename(retired)
        rename_exclusive(temporary, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    return target


def rename_exclusive(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``, failing where ``target`` exists (even empty).

    Uses renameat2 with RENAME_NOREPLACE on Linux; elsewhere (or where the filesystem
    lacks it) checks under a lock file beside the target, then renames.

    Raises:
        UnsafeTarget: If ``target`` exists.
    """
    result = _renameat2(source, target)
    if result == 0:
        return
    if result == errno.EEXIST:
        raise _exists(target)
    if result is not None and result not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        raise OSError(result, os.strerror(result), str(target))
    lock = target.parent / f".{target.name}.lock"
    try:
        descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise UnsafeTarget(f"{target}: another write to this folder is under way") from None
    try:
        if os.path.lexists(target):
            raise _exists(target)
        os.rename(source, target)
    finally:
        os.close(descriptor)
        os.unlink(lock)


def _exists(target: Path) -> UnsafeTarget:
    return UnsafeTarget(f"{target} already exists (it appeared while Enclave was writing); "
                        "it was left as it is and nothing was written there; choose a new folder")


@functools.lru_cache(maxsize=1)
def _libc_renameat2():
    try:
        renameat2 = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):
        return None
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    return renameat2


def _renameat2(source: Path, target: Path) -> int | None:
    """0 on success, the errno on failure, None where renameat2 is not available."""
    renameat2 = _libc_renameat2()
    if renameat2 is None:
        return None
    done = renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target),
                     _RENAME_NOREPLACE)
    return 0 if done == 0 else ctypes.get_errno()


OWNER_ONLY_UMASK = 0o077


def owner_only() -> None:
    """From now on, folders this process (and its job processes) creates are 0700 and
    files 0600: the workspace, its WAL and backups, model folders, exports, logs."""
    os.umask(OWNER_ONLY_UMASK)


def file_sha256(path: Path) -> str:
    """Hex sha256 of one file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def folder_size(folder: str | os.PathLike) -> int:
    """Total size in bytes of the regular files under ``folder``.

    Raises:
        FileNotFoundError: if ``folder`` does not exist.
    """
    root = Path(folder)
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist")
    if root.is_file():
        return root.stat().st_size
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
