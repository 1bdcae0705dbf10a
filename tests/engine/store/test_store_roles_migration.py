"""Schema v5: a v4 workspace gets each version's role and held-out partner from its
kind, recipe and lineage; evaluation then finds the cleaned test split."""

from __future__ import annotations

import json

from engine.store import datasets, lineage, open_store, schema


def _v4_workspace(path):
    db = open_store(path, migrate=False)
    schema.migrate(db, path, target=4)
    db["projects"].insert({"id": 1, "name": "Ward", "created_at": "t"})
    db["jobs"].insert({"id": 7, "project_id": 1, "kind": "data.clean", "state": "succeeded"})

    def add(id_, name, kind, parent=None, job=None, **recipe):
        db["datasets"].insert({"id": id_, "project_id": 1, "name": name, "version": 1,
                               "parent_id": parent, "kind": kind, "job_id": job,
                               "recipe": json.dumps(recipe), "record_count": 0,
                               "content_hash": "", "created_at": "t"})
    add(1, "notes", "import", task="instruction")
    add(2, "notes-train", "split", 1, part="train")
    add(3, "notes-test", "split", 1, part="test")
    add(4, "notes-test-clean", "clean", 3, 7, steps="normalise and redaction only")
    add(5, "notes-clean", "clean", 2, 7)
    add(6, "notes-clean-coreset", "selection", 5, method="kmeans")
    add(7, "preference-pairs", "preferences")
    add(8, "review-corrections", "review", source="expert review")
    db["runs"].insert({"id": 1, "project_id": 1, "kind": "train", "name": "LoRA",
                       "recipe": json.dumps({"dataset_id": 6}), "created_at": "t"})
    return db


def test_roles_and_partners_are_derived_and_evaluation_finds_the_cleaned_test(tmp_path):
    path = tmp_path / "w.sqlite3"
    _v4_workspace(path).conn.close()
    db = open_store(path)
    assert schema.version(db) == schema.LATEST
    assert (tmp_path / "w.sqlite3.bak-v4").exists()
    roles = {row["id"]: (row["role"], row["test_id"]) for row in db["datasets"].rows}
    assert roles == {1: ("pool", None), 2: ("train", 3), 3: ("test", None),
                     4: ("test", None), 5: ("train", 4), 6: ("train", 4),
                     7: ("pairs", None), 8: ("train", None)}
    assert datasets.held_out_for(db, 6)["id"] == 4
    assert lineage.held_out_set(db, 1, run_id=1)["id"] == 4
    assert lineage.reference_training_set(db, 1, run_id=1)["id"] == 6
    assert [row["id"] for row in datasets.of_role(db, 1, "test")] == [3, 4]


def test_a_role_outside_the_list_is_refused(tmp_path):
    import pytest

    db = open_store(tmp_path / "w.sqlite3")
    db["projects"].insert({"id": 1, "name": "Ward", "created_at": "t"})
    with pytest.raises(ValueError, match="not one of pool, train, test, pairs"):
        datasets.add_version(db, 1, "x", "import", [], [], role="validation")
