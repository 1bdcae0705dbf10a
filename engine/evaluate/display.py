"""Evaluation results as every surface shows them: redacted when the project redacts.

Outputs stored since the project's redacting clean are already redacted; these
functions also cover outputs and drift checks stored before it, so a window, report or
printed answer never shows an identifier the project now redacts.
"""

from __future__ import annotations

import sqlite_utils

from engine.data.privacy import project_redactor
from engine.store import evaluations


def shown_items(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """:func:`engine.store.evaluations.items_by_side` of an evaluation run, with prompt,
    reference and every answer passed through the project's redactor.

    Args:
        db: The workspace store.
        run_id: The evaluation run.

    Returns:
        One dict per item: ``{"item", "prompt", "reference", "group", "outputs": {side: text}}``.
    """
    items = evaluations.items_by_side(db, run_id)
    row = db.execute("SELECT project_id FROM runs WHERE id = ?", [run_id]).fetchone()
    redactor = project_redactor(db, row[0]) if row else None
    if redactor is None:
        return items
    return [{**item, "prompt": redactor(item["prompt"]), "reference": redactor(item["reference"]),
             "outputs": {side: redactor(text) for side, text in item["outputs"].items()}}
            for item in items]


def shown_drift(db: sqlite_utils.Database, project_id: int | None,
                summary: dict | None) -> dict | None:
    """A drift check's summary with its driving samples redacted when the project redacts.

    Args:
        db: The workspace store.
        project_id: The project of the check.
        summary: The ``drift`` run's summary (None: no check).
    """
    redactor = project_redactor(db, project_id)
    if redactor is None or not summary:
        return summary
    return {**summary, "drivers": [{**driver, "text": redactor(driver.get("text", ""))}
                                   for driver in summary.get("drivers", [])]}
