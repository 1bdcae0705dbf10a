"""Every test gets its own workspace: no test touches a real user's data.

The bundled SmolLM2 is converted from its GGUF once per test session into a
shared model cache (``ENCLAVE_MODELS_DIR``), as several workspaces on one
machine would share it.
"""

from __future__ import annotations

import os
import tempfile

import pytest

_SHARED_MODELS = tempfile.mkdtemp(prefix="enclave-test-models-")
os.environ.setdefault("ENCLAVE_MODELS_DIR", _SHARED_MODELS)
os.environ["ENCLAVE_BLOCK_NETWORK"] = "1"  # child processes refuse the network too


@pytest.fixture(autouse=True)
def enclave_home(tmp_path, monkeypatch):
    """Point ENCLAVE_HOME at a fresh folder for this test."""
    home = tmp_path / "enclave-home"
    monkeypatch.setenv("ENCLAVE_HOME", str(home))
    return home
