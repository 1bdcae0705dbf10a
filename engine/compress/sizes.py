"""Sizes on disk and in memory, to compare a model before and after compression."""

from __future__ import annotations

from typing import Any


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
