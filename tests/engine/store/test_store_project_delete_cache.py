"""Deleting a project prunes the embedding cache of texts no other project has, in one transaction."""

import numpy as np
import pytest

from engine import paths
from engine.data.records import content_hash
from engine.store import audit, datasets, embeddings, open_store, projects, runs

MINILM, LLM, IFD = "all-MiniLM-L6-v2", "llm:smollm2:mean", "score:ifd:smollm2"


def _record(prompt: str, response: str = "answer") -> dict:
    return {"prompt": prompt, "response": response}


def _add(db, project_id, records, task="instruction"):
    return datasets.add_version(db, project_id, "data", "import", records,
                                [content_hash(r, task) for r in records], role="pool")


def _cache(db, texts, model, dim=4):
    hashes = [embeddings.text_hash(t) for t in texts]
    embeddings.store(db, hashes, model, np.ones((len(texts), dim), np.float32))
    return hashes


def _cached(db, text, model=MINILM) -> bool:
    return bool(embeddings.lookup(db, [embeddings.text_hash(text)], model))


@pytest.fixture
def workspace():
    db = open_store(paths.workspace_db())
    first, second = projects.create(db, "first"), projects.create(db, "second")
    only_first, shared = _record("only in the first"), _record("in both")
    _add(db, first, [only_first, shared])
    _add(db, first, [shared])  # a second version repeats a text
    _add(db, second, [shared, _record("only in the second")])
    _add(db, second, [{"text": "a clause", "label": "x"}], task="classification")
    texts = [embeddings.record_text(r) for r in (only_first, shared)]
    texts += ["only in the second\nanswer", "a clause", "embedded by no project"]
    _cache(db, texts, MINILM)
    _cache(db, texts[:2], LLM, dim=8)
    _cache(db, [embeddings.pair_text(only_first), embeddings.pair_text(shared)], IFD, dim=1)
    return db, first, second


def test_deleting_a_project_drops_only_the_vectors_no_other_project_uses(workspace):
    db, first, second = workspace
    assert embeddings.count(db) == 9
    projects.delete(db, first)
    assert not _cached(db, "only in the first\nanswer")
    assert not _cached(db, "only in the first\nanswer", LLM)
    assert not _cached(db, "only in the first\x00answer", IFD)
    assert _cached(db, "in both\nanswer") and _cached(db, "in both\nanswer", LLM)
    assert _cached(db, "in both\x00answer", IFD)
    assert _cached(db, "embedded by no project") and _cached(db, "a clause")
    assert embeddings.count(db) == 6

    projects.delete(db, second)
    assert embeddings.count(db) == 1 and _cached(db, "embedded by no project")


def test_a_failed_delete_keeps_the_cache_and_the_project(workspace, monkeypatch):
    db, first, _ = workspace

    def refuse(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(audit, "record", refuse)
    with pytest.raises(RuntimeError):
        projects.delete(db, first)
    assert embeddings.count(db) == 9 and projects.get(db, first)["name"] == "first"


def test_deleting_a_project_removes_its_cache_files_and_its_folder(workspace):
    db, first, _ = workspace
    folder = paths.project_dir(first)
    (folder / "selections").mkdir()
    selection_map = folder / "selections" / "dataset-1-map.npz"
    selection_map.write_bytes(b"map")
    vectors = folder / "demo-1" / "embeddings.npy"
    vectors.parent.mkdir()
    vectors.write_bytes(b"vectors")
    adapter = folder / "runs" / "run-1" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    runs.add_artifact(db, first, "selection-map", selection_map)
    runs.add_artifact(db, first, "embeddings", vectors)
    runs.add_artifact(db, first, "lora-adapter", adapter)
    projects.delete(db, first)
    assert not selection_map.exists() and not vectors.exists()
    assert not folder.exists()  # runs in the workspace belong to the project (issue 13, point 8)
