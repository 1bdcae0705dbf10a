"""Thread counts for CPU inference, sized to the cores that other work leaves free.

Intra-op thread pools (torch, ONNX Runtime) split each operation across threads that
meet at a barrier after it. When other processes hold the cores, one of those threads
is often descheduled and the others wait for it at every operation: on a 2-core
machine with a load of 4-6, IFD scoring with SmolLM2 ran 6x slower on two threads than
on one. So a pool gets the cores the recent load leaves idle, at least one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def machine_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def free_cores() -> int:
    """Cores not busy with other work over the last minute (1 to :func:`machine_cores`)."""
    cores = machine_cores()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return cores
    return max(1, min(cores, int(cores - busy + 0.5)))


@contextmanager
def torch_threads(threads: int | None = None) -> Iterator[int]:
    """Run the block with ``threads`` torch intra-op threads (None: :func:`free_cores`).

    Yields:
        The thread count in use; the previous count is restored afterwards.
    """
    import torch

    previous = torch.get_num_threads()
    count = max(1, threads if threads is not None else free_cores())
    torch.set_num_threads(count)
    try:
        yield count
    finally:
        torch.set_num_threads(previous)
