"""Table models that load a dataset version page by page (Qt's fetchMore), never whole.

A view asks :meth:`canFetchMore` / :meth:`fetchMore` as the user scrolls near the end;
each call reads one keyset page from the store (:mod:`engine.store.record_search`), so a
version of a million records opens as fast as one of a hundred. Record pages are read on a
worker thread (:mod:`gui.tasks`), so a filter that scans far never stalls the window.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from engine.data.browse import Shower, ShownRow, shower_raw
from engine.store import record_search
from engine.store.record_search import RecordFilter, RecordRow
from gui import tasks

PAGE = 200


class RecordsTableModel(QAbstractTableModel):
    """The records of one version that pass a filter, as the project may show them.

    Pages are read off the main thread (a filter that matches little may read much of a
    large version before a page is full); rows are added when a page arrives.

    Signals:
        page_loaded(first): a page arrived (``first``: the first page of a load).
        page_failed(message): reading a page failed.
    """

    COLUMNS = ("#", "Line", "Text", "Label", "Characters")
    page_loaded = Signal(bool)
    page_failed = Signal(str)

    def __init__(self, db: sqlite_utils.Database, parent=None) -> None:
        super().__init__(parent)
        self.db = db
        self.dataset_id: int | None = None
        self.filter = RecordFilter()
        self.shower: Shower | None = None
        self.rows: list[RecordRow] = []
        self.shown: list[ShownRow] = []
        self.cells: list[tuple] = []
        self._done = True
        self._pending = False
        self._generation = 0

    def load(self, dataset_id: int | None, flt: RecordFilter, shower: Shower | None) -> None:
        """Show another version or filter, from its first page (read in the background)."""
        self.beginResetModel()
        self._generation += 1
        self.dataset_id, self.filter, self.shower = dataset_id, flt, shower
        self.rows, self.shown, self.cells, self._done = [], [], [], dataset_id is None
        self._pending = False
        self.endResetModel()
        if not self._done:
            self.fetchMore(QModelIndex())

    @property
    def loading(self) -> bool:
        """Whether a page is being read."""
        return self._pending

    def record_at(self, row: int) -> RecordRow | None:
        """The stored record behind a table row."""
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.shown)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def canFetchMore(self, parent: QModelIndex) -> bool:  # noqa: N802
        return not parent.isValid() and not self._done and not self._pending

    def fetchMore(self, parent: QModelIndex) -> None:  # noqa: N802
        if parent.isValid() or self._done or self._pending or self.dataset_id is None:
            return
        self._pending = True
        generation, first = self._generation, not self.rows
        dataset_id, flt = self.dataset_id, self.filter
        after = self.rows[-1].id if self.rows else 0
        tasks.runner().run_with_store(
            self.db, lambda db: record_search.page(db, dataset_id, flt, after, PAGE),
            lambda rows: self._on_page(generation, first, rows),
            lambda exc: self._on_failed(generation, exc))

    def _on_page(self, generation: int, first: bool, rows: list[RecordRow]) -> None:
        if generation != self._generation:
            return  # a newer version or filter is shown
        self._pending, self._done = False, len(rows) < PAGE
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows += rows
            shown = [self.shower.row(row) for row in rows]
            self.shown += shown
            self.cells += [(row.position + 1, "" if row.line is None else row.line, row.preview,
                            row.label, row.chars) for row in shown]
            self.endInsertRows()
        self.page_loaded.emit(first)

    def _on_failed(self, generation: int, exc: Exception) -> None:
        if generation == self._generation:
            self._pending, self._done = False, True
            self.page_failed.emit(str(exc))

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or role not in (Qt.DisplayRole, Qt.ToolTipRole):
            return None
        return self.cells[index.row()][index.column()]

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.COLUMNS[section]
        return None


class QuarantineTableModel(QAbstractTableModel):
    """The quarantined (bad) lines of one version, with the reason each was kept out."""

    COLUMNS = ("File", "Line", "Field", "Reason", "Content")

    def __init__(self, db: sqlite_utils.Database, parent=None) -> None:
        super().__init__(parent)
        self.db = db
        self.dataset_id: int | None = None
        self.shower: Shower | None = None
        self.rows: list[dict] = []
        self._done = True

    def load(self, dataset_id: int | None, shower: Shower | None) -> None:
        """Show another version's quarantine, from its first page."""
        self.beginResetModel()
        self.dataset_id, self.shower, self.rows = dataset_id, shower, []
        self._done = dataset_id is None
        self.endResetModel()
        if not self._done:
            self.fetchMore(QModelIndex())

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def canFetchMore(self, parent: QModelIndex) -> bool:  # noqa: N802
        return not parent.isValid() and not self._done

    def fetchMore(self, parent: QModelIndex) -> None:  # noqa: N802
        if parent.isValid() or self._done or self.dataset_id is None:
            return
        after = self.rows[-1]["id"] if self.rows else 0
        rows = record_search.quarantine_page(self.db, self.dataset_id, after, PAGE)
        self._done = len(rows) < PAGE
        if not rows:
            return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
        self.rows += [{**row, "file": Path(row["file"] or "").name,
                       "reason": self.shower.text(row["reason"] or ""),
                       "raw": shower_raw(self.shower, row["raw"])[:300]} for row in rows]
        self.endInsertRows()

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or role not in (Qt.DisplayRole, Qt.ToolTipRole):
            return None
        row = self.rows[index.row()]
        return (row["file"], row["line"], row["field"], row["reason"], row["raw"])[index.column()]

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.COLUMNS[section]
        return None
