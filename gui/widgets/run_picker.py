"""One way to fill a run picker: the runs that can be used, newest first, named alike.

The rows come from :func:`engine.store.runs.usable_runs` (finished, with a model or, for
evaluations, with outputs); each item shows the row's ``label`` and carries the run id.
"""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from engine.store import runs


def fill_run_picker(combo: QComboBox, db: sqlite_utils.Database, project_id: int | None,
                    kinds: tuple[str, ...], keep: int | None = None) -> list[dict]:
    """Replace the picker's items with the project's usable runs of ``kinds``.

    The newest run is chosen, or ``keep`` when it is still offered. Signals are blocked
    while filling, so the caller decides what to refresh afterwards.

    Returns:
        The rows offered, newest first.
    """
    rows = runs.usable_runs(db, project_id, kinds) if project_id is not None else []
    combo.blockSignals(True)
    combo.clear()
    for row in rows:
        combo.addItem(row["label"], row["id"])
        combo.setItemData(combo.count() - 1, row["label"], Qt.ToolTipRole)
    if keep is not None and combo.findData(keep) >= 0:
        combo.setCurrentIndex(combo.findData(keep))
    combo.blockSignals(False)
    return rows
