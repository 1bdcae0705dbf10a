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
