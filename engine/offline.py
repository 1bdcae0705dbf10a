"""Offline switches: set before any model library is imported.

Enclave never talks to a network. Importing :mod:`engine` calls :func:`enforce`
so that transformers, huggingface_hub and sentence-transformers refuse to reach
a hub, and so that nothing can ask for remote code.
"""

from __future__ import annotations

import os

_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # Enclave reports its own progress
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


class RemoteCodeRefused(ValueError):
    """Raised when a model asks to run code shipped beside its weights."""


def enforce() -> None:
    """Set the offline switches for this process and its children."""
    for key, value in _SWITCHES.items():
        os.environ[key] = value


def refuse_remote_code(kwargs: dict) -> dict:
    """Return loader kwargs that load local files only and never remote code.

    Raises:
        RemoteCodeRefused: if the caller asked for ``trust_remote_code``.
    """
    if kwargs.get("trust_remote_code"):
        raise RemoteCodeRefused(
            "trust_remote_code is refused: Enclave only runs model code it ships."
        )
    return {**kwargs, "trust_remote_code": False, "local_files_only": True}


class NetworkBlocked(ConnectionError):
    """Raised when code inside Enclave tries to reach another machine."""


_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")


def _is_local(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) and address else address
    return not isinstance(host, str) or host.startswith(_LOOPBACK) or host.startswith("/")


def block_network() -> None:
    """Refuse every connection and name lookup that leaves this machine.

    Loopback and Unix sockets stay allowed (local process coordination). Job
    processes always run with this on; ``ENCLAVE_BLOCK_NETWORK=1`` turns it on
    for any process that imports :mod:`engine`.
    """
    import socket

    if getattr(socket.socket.connect, "_enclave_blocked", False):
        return
    original_connect, original_connect_ex = socket.socket.connect, socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(sock, address):
        if not _is_local(address):
            raise NetworkBlocked(f"Enclave is offline: connection to {address!r} refused.")
        return original_connect(sock, address)

    def connect_ex(sock, address):
        if not _is_local(address):
            raise NetworkBlocked(f"Enclave is offline: connection to {address!r} refused.")
        return original_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_local(host):
            raise NetworkBlocked(f"Enclave is offline: lookup of {host!r} refused.")
        return original_getaddrinfo(host, *args, **kwargs)

    connect._enclave_blocked = True  # type: ignore[attr-defined]
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.getaddrinfo = getaddrinfo
