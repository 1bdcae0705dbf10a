"""Which accelerator this workstation has, and how much memory it offers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

DeviceKind = Literal["cuda", "mps", "cpu"]


@dataclass(frozen=True)
class DeviceInfo:
    """The device a job will run on.

    Attributes:
        kind: ``"cuda"``, ``"mps"`` or ``"cpu"``.
        name: human-readable name of the device.
        memory_bytes: memory the device offers (GPU memory, or system RAM).
        bf16: whether bfloat16 arithmetic is supported at useful speed.
    """

    kind: DeviceKind
    name: str
    memory_bytes: int
    bf16: bool


def _system_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def detect() -> DeviceInfo:
    """Detect the best device: CUDA first, then Apple MPS, then the CPU.

    Returns:
        A :class:`DeviceInfo` describing the device.
    """
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return DeviceInfo("cuda", props.name, int(props.total_memory),
                          bool(torch.cuda.is_bf16_supported()))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return DeviceInfo("mps", "Apple GPU (MPS)", _system_memory_bytes(), False)
    import platform

    name = platform.processor() or platform.machine() or "CPU"
    return DeviceInfo("cpu", f"{name} ({os.cpu_count() or 1} cores)", _system_memory_bytes(), False)


def cpu_bf16_fast() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX tiles).

    Without them torch emulates bfloat16 through float32 conversions: on an AVX2 CPU
    MiniLM ran 5x and SmolLM2 7x slower in bfloat16 than in float32. The probes are
    torch's own (``torch.cpu``); a torch without them counts as no native bfloat16,
    which only costs speed (float32 runs).
    """
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, probe, lambda: False)()) for probe in probes)


def cpu_dtype(requested: str) -> str:
    """The dtype to run CPU inference in: ``requested``, except bfloat16 on a CPU
    without native bfloat16 (see :func:`cpu_bf16_fast`), which runs float32 instead."""
    if requested == "bfloat16" and not cpu_bf16_fast():
        return "float32"
    return requested
