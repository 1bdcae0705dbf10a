"""Sizes on disk and in memory, to compare a model before and after compression."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


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


def model_footprint(model: Any) -> int:
    """Bytes held by a model's parameters and buffers (shared tensors counted once).

    Uses ``get_memory_footprint`` of transformers models when available, which
    counts quantized weights at their packed size.
    """
    footprint = getattr(model, "get_memory_footprint", None)
    if callable(footprint):
        return int(footprint())
    seen: set[int] = set()
    total = 0
    for tensor in [*model.parameters(), *model.buffers()]:
        key = tensor.data_ptr()
        if key in seen:
            continue
        seen.add(key)
        total += tensor.numel() * tensor.element_size()
    return total
