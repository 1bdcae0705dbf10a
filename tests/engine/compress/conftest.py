"""Fixtures: a tiny Llama (small BPE tokenizer) and a workspace with a training run.

The training run looks like the demo's: datasets ``*-train`` / ``*-test`` and a run of
kind ``train`` with a ``merged-model`` artifact.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest


def _tiny_lm_module():
    name = "enclave_tests_tiny_lm"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "train" / "tiny_lm.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _helper():
    name = "enclave_tests_tiny_bpe_llama"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("tiny_bpe_llama.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return _tiny_lm_module().tiny_records(24)


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, records) -> Path:
    """A 2-layer random Llama (hidden 64) with a small BPE tokenizer; do not modify."""
    folder = tmp_path_factory.mktemp("compress") / "tiny"
    return _helper().build_tiny_bpe_llama(folder, records)


@pytest.fixture()
def workspace(tmp_path, tiny_llama, records):
    """(db, run_id) of a project with train/test datasets and a merged-model run."""
    from engine import paths
    from engine.store import datasets, open_store, projects, runs

    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward", "compression tests")
    for name, part in (("ward-train", records[:16]), ("ward-test", records[16:])):
        datasets.add_version(db, project_id, name, "split", part,
                             [f"{name}-{i}" for i in range(len(part))], role=name.rsplit("-", 1)[-1])
    merged = shutil.copytree(tiny_llama, tmp_path / "merged")
    run_id = runs.create(db, project_id, "train", "tiny LoRA", {"epochs": 1})
    runs.add_artifact(db, project_id, "merged-model", merged, run_id)
    return db, run_id
