"""Expert corrections from the Review tab, turned into training data."""

from __future__ import annotations

import sqlite_utils

from engine.data.records import content_hash
from engine.store import datasets, evaluations


def export_corrections(db: sqlite_utils.Database, project_id: int, run_id: int,
                       name: str = "expert-corrections") -> int:
    """Store the corrected answers as a new version of dataset ``name`` (kind "review").

    Returns:
        The new dataset id.

    Raises:
        ValueError: when the run has no correction yet.
    """
    records = evaluations.corrected_records(db, run_id)
    if not records:
        raise ValueError(f"evaluation run {run_id} has no corrected answer to export")
    hashes = [content_hash(record, "instruction") for record in records]
    return datasets.add_version(db, project_id, name, "review", records, hashes, role=datasets.TRAIN,
                                recipe={"source": "expert review", "eval_run": run_id})
