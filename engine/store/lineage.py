"""Which data goes with which: a run's training data, its held-out test set, the
reference for drift. Follows stored roles and lineage (see :mod:`engine.store.datasets`)."""

from __future__ import annotations

import json

import sqlite_utils
from sqlite_utils.db import NotFoundError

from engine.store import datasets


def run_dataset_id(db: sqlite_utils.Database, run_id: int | None) -> int | None:
    """The dataset a training run learned from; for a run started from another run
    (DPO from a tuned run), the dataset of that run."""
    seen: set[int] = set()
    while run_id is not None and run_id not in seen:
        seen.add(run_id)
        try:
            recipe = json.loads(db["runs"].get(run_id)["recipe"] or "{}")
        except NotFoundError:
            return None
        dataset_id = recipe.get("dataset_id")
        if dataset_id is not None and db["datasets"].count_where("id = ?", [dataset_id]) \
                and datasets.get(db, dataset_id)["role"] != datasets.PAIRS:
            return int(dataset_id)
        run_id = recipe.get("from_run")
    return None


def held_out_set(db: sqlite_utils.Database, project_id: int,
                 run_id: int | None = None) -> dict | None:
    """The test version to evaluate a run on: the held-out partner of the data it learned
    from (cleaned with the same recipe when that data was cleaned); without a known
    dataset, the project's newest test version (a cleaned one before a raw one)."""
    dataset_id = run_dataset_id(db, run_id)
    if dataset_id is not None:
        found = datasets.held_out_for(db, dataset_id)
        if found is not None:
            return found
    tests = datasets.of_role(db, project_id, datasets.TEST)
    cleaned = [row for row in tests if row["kind"] == "clean"]
    return (cleaned or tests or [None])[-1]


def reference_training_set(db: sqlite_utils.Database, project_id: int,
                           run_id: int | None = None) -> dict | None:
    """The training data a model learned from (the run's dataset), else the project's
    newest whole training set (a cleaned or split one, not a coreset); None when none."""
    dataset_id = run_dataset_id(db, run_id)
    if dataset_id is not None:
        return datasets.get(db, dataset_id)
    return datasets.default_training(db, project_id, exclude_kinds=("selection", "review"))
