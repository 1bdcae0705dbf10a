"""Which records a run's compression or export works on (from the store)."""

from __future__ import annotations

import sqlite_utils

from engine.store import datasets, lineage


def project_records(db: sqlite_utils.Database, run: dict, split: str,
                    limit: int) -> list[dict]:
    """Up to ``limit`` records that go with a training run: its training data
    (``split="train"``) or its held-out test set (``"test"``), by stored roles and lineage.

    Falls back to the project's training data when it has no test set; an empty list
    when the project has no data.
    """
    row = lineage.held_out_set(db, run["project_id"], run["id"]) if split == "test" else None
    if row is None:
        row = lineage.reference_training_set(db, run["project_id"], run["id"])
    if row is None or limit <= 0:
        return []
    return [{k: v for k, v in r.items() if k != "_line"}
            for r in datasets.records(db, row["id"])[:limit]]
