"""Every test gets its own workspace: no test touches a real user's data.

The bundled SmolLM2 is converted from its GGUF once per test session into a
shared model cache (``ENCLAVE_MODELS_DIR``), as several workspaces on one
machine would share it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

_SHARED_MODELS = tempfile.mkdtemp(prefix="enclave-test-models-")
os.environ.setdefault("ENCLAVE_MODELS_DIR", _SHARED_MODELS)
os.environ["ENCLAVE_BLOCK_NETWORK"] = "1"  # child processes refuse the network too

# The runner's own test job kinds (tests/support/enclave_test_jobs.py), here and in job
# processes. Only tests/support goes on the path: tests/engine would shadow the engine.
_SUPPORT = str(Path(__file__).resolve().parent / "support")
sys.path.insert(0, _SUPPORT)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_SUPPORT,
                                                         os.environ.get("PYTHONPATH")]))
os.environ["ENCLAVE_TEST_JOB_KINDS"] = "enclave_test_jobs"


@pytest.fixture(autouse=True)
def enclave_home(tmp_path, monkeypatch):
    """Point ENCLAVE_HOME at a fresh folder for this test."""
    home = tmp_path / "enclave-home"
    monkeypatch.setenv("ENCLAVE_HOME", str(home))
    return home
