"""Atomic writes of model folders: a folder counts only once complete."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Callable


def write_folder_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Write a folder beside ``target`` under a temporary name, then rename it into place.

    An existing ``target`` is replaced only once the new folder is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    try:
        temporary.mkdir()
        write(temporary)
        if target.exists():
            target.rename(retired)
        temporary.rename(target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    return target
