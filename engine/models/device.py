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
