"""Evaluation outputs and expert reviews: migration, agreement, corrections as data."""

import pytest

from engine.evaluate.corrections import export_corrections
from engine.store import datasets, evaluations, open_store, projects, runs
from engine.store.schema import MIGRATIONS, migrate, version


def test_evaluation_migration_creates_outputs_and_reviews(tmp_path):
    import sqlite_utils

    number = [m.__name__ for m in MIGRATIONS].index("_v4_evaluation") + 1
    db = sqlite_utils.Database(tmp_path / "w.sqlite3")
    migrate(db, target=number - 1)
    assert "reviews" not in db.table_names()
    migrate(db, target=number)
    assert version(db) == number
    assert {"eval_outputs", "reviews"} <= set(db.table_names())
    assert "correction" in db["reviews"].columns_dict


@pytest.fixture
def evaluated(tmp_path):
    db = open_store(tmp_path / "w.sqlite3")
    project_id = projects.create(db, "P")
    run_id = runs.create(db, project_id, "evaluate", "eval")
    evaluations.add_outputs(db, run_id, [
        {"item": i, "side": side, "prompt": f"q{i}", "reference": f"r{i}",
         "output": f"{side}{i}", "group": "g", "scores": {"em": 0.0}}
        for i in range(3) for side in ("base", "tuned")])
    return db, project_id, run_id


def test_reviews_store_reviewer_and_corrections_become_a_dataset(evaluated):
    db, project_id, run_id = evaluated
    evaluations.add_review(db, run_id, 0, "tuned", 2, correction="better answer 0")
    evaluations.add_review(db, run_id, 1, "base", 5, blind=True, preferred=True)
    rows = evaluations.reviews(db, run_id)
    assert rows[0]["reviewer"] and rows[1]["blind"] == 1
    with pytest.raises(ValueError, match="1 to 5"):
        evaluations.add_review(db, run_id, 0, "tuned", 6)
    with pytest.raises(ValueError, match="no output for item 9"):
        evaluations.add_review(db, run_id, 9, "tuned", 3)

    assert evaluations.preference_pairs(db, run_id) == [
        {"prompt": "q1", "chosen": "base1", "rejected": "tuned1"}]
    dataset_id = export_corrections(db, project_id, run_id)
    assert datasets.get(db, dataset_id)["kind"] == "review"
    assert [{k: r[k] for k in ("prompt", "response")} for r in datasets.records(db, dataset_id)] \
        == [{"prompt": "q0", "response": "better answer 0"}]


def test_agreement_between_reviewers(evaluated):
    db, _, run_id = evaluated
    assert evaluations.reviewer_agreement(db, run_id)["exact"] is None
    evaluations.add_review(db, run_id, 0, "base", 4, reviewer="ann")
    evaluations.add_review(db, run_id, 0, "base", 4, reviewer="bob")
    evaluations.add_review(db, run_id, 1, "base", 2, reviewer="ann")
    evaluations.add_review(db, run_id, 1, "base", 5, reviewer="bob")
    agreement = evaluations.reviewer_agreement(db, run_id)
    assert agreement == {"shared": 2, "exact": 0.5, "within_one": 0.5, "mean_abs_diff": 1.5}
