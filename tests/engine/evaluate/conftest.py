"""Evaluation fixtures: a briefly tuned tiny Llama (shared tiny fixtures: tests/engine/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tuned_tiny(tiny_llama_folder, tiny_records, tmp_path_factory) -> dict:
    """A LoRA adapter trained briefly on the tiny records, and the merged model."""
    from engine.compress.merge import merge_adapter
    from engine.train.loop import train
    from engine.train.recipe import TrainRecipe

    out = tmp_path_factory.mktemp("tuned_tiny")
    recipe = TrainRecipe(dropout=0.0, learning_rate=1e-2, max_steps=20, max_length=64, seed=0)
    adapter = train(tiny_llama_folder, tiny_records, recipe, out / "adapter").adapter_dir
    merged = merge_adapter(tiny_llama_folder, adapter, out / "merged")
    return {"base": tiny_llama_folder, "adapter": adapter, "merged": merged}


def with_kind(records: list[dict]) -> list[dict]:
    return [{**r, "kind": "even" if i % 2 == 0 else "odd"} for i, r in enumerate(records)]


def populate(db, tuned_tiny, tiny_records) -> dict:
    """A project with train/test splits and a train run with its models, in ``db``."""
    from engine.data.records import content_hash
    from engine.store import datasets, projects, runs

    project_id = projects.create(db, "Eval")
    records = with_kind(tiny_records)
    for name, part in (("tiny-train", records[:30]), ("tiny-test", records[30:])):
        datasets.add_version(db, project_id, name, "split", part,
                             [content_hash(r, "instruction") for r in part], role=name.rsplit("-", 1)[-1])
    run_id = runs.create(db, project_id, "train", "tiny LoRA",
                         {"base_model": str(tuned_tiny["base"])})
    runs.add_artifact(db, project_id, "lora-adapter", tuned_tiny["adapter"], run_id)
    runs.add_artifact(db, project_id, "merged-model", tuned_tiny["merged"], run_id)
    return {"db": db, "project_id": project_id, "run_id": run_id, "records": records}


@pytest.fixture
def trained_project(tuned_tiny, tiny_records, tmp_path):
    """A store in ``tmp_path`` with a project ready for evaluation."""
    from engine.store import open_store

    return populate(open_store(tmp_path / "w.sqlite3"), tuned_tiny, tiny_records)


@pytest.fixture
def workspace_project(tuned_tiny, tiny_records):
    """The same project in the test's workspace (``ENCLAVE_HOME``), for commands and jobs."""
    from engine import paths
    from engine.store import open_store

    return populate(open_store(paths.workspace_db()), tuned_tiny, tiny_records)
