"""Seal an export folder as an encrypted archive beside it (AES-256-GCM, see
:mod:`engine.compress.sealed`), remove the plain folder and audit it: the same step for
`enclave export --seal` and the window's export."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlite_utils

from engine.compress.sealed import SUFFIX, seal_folder
from engine.store import audit

SEALED = "model.export.sealed"


def archive_path(folder: Path) -> Path:
    """Where the archive of an export folder goes: beside it, named after it."""
    folder = Path(folder)
    return folder.with_name(folder.name + SUFFIX)


def seal_export(db: sqlite_utils.Database, run_id: int, folder: Path, passphrase: str) -> Path:
    """Turn the export ``folder`` of ``run_id`` into an encrypted archive.

    Returns:
        The archive's path (the plain folder is gone).

    Raises:
        SealError: the passphrase is empty (nothing written, the folder stays).
    """
    archive = seal_folder(Path(folder), archive_path(folder), passphrase)
    shutil.rmtree(folder)
    audit.record(db, SEALED, f"run:{run_id}", path=str(archive))
    return archive
