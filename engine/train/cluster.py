"""This machine's share of a training run on several machines: its environment, its message
and the watch on its connections.

The opening itself (which addresses, who may have it) is :mod:`engine.netwall_cluster`'s; the
launcher (:mod:`engine.train.launch`) uses these while it follows a cluster run, on machine 0
(the training job) and on every machine that joins it (``enclave train-join``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from typing import Iterable, Iterator

from engine import netwall, netwall_cluster

WATCH_S = 1.0


class ConnectionWatch:
    """Finds, at most every :data:`WATCH_S` seconds, a connection of the run's processes to an
    address that is neither loopback nor one of the named machines (native code included: the
    operating system's socket tables are read, not Python's calls)."""

    def __init__(self, allow: Iterable[str]) -> None:
        self.allow = tuple(allow)
        self.last = 0.0

    def breach(self, pid: int) -> str:
        """What process ``pid`` and its descendants hold outside the cluster ("" for nothing)."""
        if not self.allow or time.monotonic() - self.last < WATCH_S:
            return ""
        self.last = time.monotonic()
        foreign = netwall_cluster.foreign_connections(pid, self.allow)
        if not foreign:
            return ""
        return ("stopped: a process of this cluster run was connected outside the named "
                f"machines ({', '.join(self.allow)}): " + "; ".join(foreign[:4]))


def environment(allow: Iterable[str]) -> dict[str, str]:
    """The environment of this machine's processes of a cluster run: the walls' opening and
    gloo/NCCL pinned to the interface that holds this machine's address.

    Raises:
        ValueError: when this machine holds none of the addresses, or when this job process's
            walls were not opened to exactly these machines.
    """
    allow = list(allow)
    walls = netwall.active_walls()
    if walls["audit_hook"] and walls["opened_to"] != allow:
        raise ValueError(f"this job's network walls were not opened to the cluster "
                         f"({', '.join(allow)}); opened to: "
                         f"{', '.join(walls['opened_to']) or 'nothing'}")
    return {**os.environ, **netwall_cluster.collective_environment(allow)}


def opening_message(allow: Iterable[str]) -> str:
    """What a cluster run opens, in one line for the job's messages.

    Raises:
        ValueError: when this machine holds none of the addresses.
    """
    allow = list(allow)
    interface, _ = netwall_cluster.local_interface(allow)
    return (f"network: this cluster run may reach {', '.join(allow)} besides loopback "
            f"(gloo/NCCL on interface {interface}); every other address stays refused, a "
            "connection elsewhere stops the run, and the opening is recorded in the audit log")


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Within, SIGTERM ends the process through ``SystemExit`` so that cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(*_args) -> None:
        sys.exit(128 + signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
