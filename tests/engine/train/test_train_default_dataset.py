"""Which dataset a training run takes when none is named."""

import pytest

from engine.store import datasets, open_store, projects
from engine.train.job import find_dataset

ROLES = {"import": "pool", "preferences": "pairs"}


def _version(db, pid, name, kind, recipe=None, parent_id=None):
    rows = [{"prompt": f"{name} {i}", "response": "ok"} for i in range(2)]
    role = ROLES.get(kind) or (recipe or {}).get("part", "train")
    return datasets.add_version(db, pid, name, kind, rows, [f"{name}{i}" for i in range(2)],
                                recipe=recipe, parent_id=parent_id, role=role)


@pytest.fixture()
def workspace(tmp_path):
    db = open_store(tmp_path / "w.sqlite3")
    return db, projects.create(db, "p")


def test_default_skips_preference_pairs_and_the_test_split(workspace):
    db, pid = workspace
    imported = _version(db, pid, "notes", "import")
    train = _version(db, pid, "notes-train", "split", {"part": "train"}, imported)
    _version(db, pid, "notes-test", "split", {"part": "test"}, imported)
    _version(db, pid, "preference-pairs", "preferences")
    assert find_dataset(db, pid, None)["id"] == train


def test_named_dataset_is_taken_whatever_its_kind(workspace):
    db, pid = workspace
    _version(db, pid, "notes", "import")
    pairs = _version(db, pid, "preference-pairs", "preferences")
    assert find_dataset(db, pid, "preference-pairs")["id"] == pairs


def test_only_pairs_is_a_clear_error(workspace):
    db, pid = workspace
    _version(db, pid, "preference-pairs", "preferences")
    with pytest.raises(ValueError, match="has no dataset"):
        find_dataset(db, pid, None)
