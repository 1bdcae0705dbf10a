"""Every test gets its own workspace: no test touches a real user's data."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def enclave_home(tmp_path, monkeypatch):
    """Point ENCLAVE_HOME at a fresh folder for this test."""
    home = tmp_path / "enclave-home"
    monkeypatch.setenv("ENCLAVE_HOME", str(home))
    return home
