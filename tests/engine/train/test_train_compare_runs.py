"""Comparing runs: differing recipe fields, best value per column, trials ranked, curves."""

import pytest

from engine import paths
from engine.store import jobs, open_store, projects, runs
from engine.train.compare_runs import comparable_runs, compare_runs, differing_fields, flatten


def _run(db, project_id, lr, rank, eval_loss, loss_end, seconds, state="succeeded"):
    job_id = jobs.create(db, "train", {}, project_id)
    jobs.finish(db, job_id, state)
    run_id = runs.create(db, project_id, "train", f"lr {lr}",
                         {"base": "smollm2", "dataset_id": 1,
                          "train": {"learning_rate": lr, "rank": rank, "max_steps": 20}}, job_id)
    runs.set_summary(db, run_id, {"eval_loss": eval_loss, "loss_end": loss_end, "steps": 20,
                                  "seconds": seconds, "tokens_per_s": 1000 / seconds})
    for step in (1, 10, 20):
        runs.log_metric(db, run_id, "loss", step, loss_end + (20 - step) / 10)
    runs.log_metric(db, run_id, "eval_loss", 20, eval_loss or 9.0)
    return run_id


def test_differences_best_values_ranking_and_curves(enclave_home):
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Search")
    a = _run(db, project_id, 1e-4, 8, 2.5, 2.2, 40.0)
    b = _run(db, project_id, 2e-4, 8, 2.1, 2.4, 50.0)
    c = _run(db, project_id, 4e-4, 16, None, 2.0, 45.0, state="failed")
    found = compare_runs(db, [a, b, c])
    assert found.differing == ["train.learning_rate", "train.rank"]
    assert found.best == {"loss_end": c, "eval_loss": b, "seconds": a, "tokens_per_s": a}
    assert [row["run_id"] for row in found.ranked] == [b, a, c]
    assert found.ranked[0]["best"] and not found.ranked[2]["best"]
    assert found.curves[a]["loss"] == [(1, 4.1), (10, 3.2), (20, 2.2)]
    assert [row["id"] for row in comparable_runs(db, project_id)] == [c, b, a]
    with pytest.raises(KeyError, match="run 99"):
        compare_runs(db, [99])


def test_flatten_and_missing_fields_count_as_different():
    assert flatten({"train": {"rank": 8, "targets": ["q", "v"]}}) == \
        {"train.rank": 8, "train.targets": ["q", "v"]}
    assert differing_fields([{"a": 1, "b": 2}, {"a": 1}]) == ["b"]
