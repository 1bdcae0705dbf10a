"""Shared fixture: one conversion of the bundled SmolLM2 per test session.

The conversion goes into the session's shared model cache
(``ENCLAVE_MODELS_DIR``, set by tests/conftest.py) when there is one, so
every test area that asks for SmolLM2 reuses it; otherwise into a
session-wide temporary folder, removed at the end.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from engine.models.bundled import smollm2_folder
from engine.progress import Reporter


@pytest.fixture(scope="session")
def smollm2_conversion(tmp_path_factory) -> tuple[Path, list]:
    """The converted SmolLM2 folder and the progress events of its conversion.

    The events list is empty when another test area converted it first.
    """
    shared = os.environ.get("ENCLAVE_MODELS_DIR")
    models_dir = Path(shared) if shared else tmp_path_factory.getbasetemp() / "enclave-models"
    events: list = []
    folder = smollm2_folder(Reporter(events.append), models_dir=models_dir)
    yield folder, events
    if not shared:
        shutil.rmtree(models_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def smollm2_dir(smollm2_conversion) -> Path:
    """The converted SmolLM2 folder (config, safetensors, tokenizer)."""
    return smollm2_conversion[0]
