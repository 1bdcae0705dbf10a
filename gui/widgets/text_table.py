"""A read-only table of text cells, filled in one go (one model reset, not a call per cell).

A ``QTableWidget`` filled with ``setItem`` costs the main thread a fraction of a millisecond
per cell once its header sizes columns to their contents; 500 rows of 3 columns froze the
window for a few hundred milliseconds. :class:`TextTableModel` takes the rows as a list and
lets the view ask only for the cells on screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView


class TextTableModel(QAbstractTableModel):
    """Rows of strings under fixed column titles.

    Args:
        headers: the column titles.
        parent: the Qt parent.
    """

    def __init__(self, headers: Sequence[str], parent=None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.rows: list[tuple[str, ...]] = []

    def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
        """Show ``rows`` (each one string per column) in place of the current ones."""
        self.beginResetModel()
        self.rows = [tuple(row) for row in rows]
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if role in (Qt.DisplayRole, Qt.ToolTipRole) and index.isValid():
            return self.rows[index.row()][index.column()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.headers[section]
        return None


def text_table_view(model: TextTableModel, stretch_column: int) -> QTableView:
    """A read-only view of ``model``: alternating rows, no row numbers, ``stretch_column``
    taking the width left over, the others sized to their contents once per reset, measured
    on the rows in view only (measuring every row asks the model for each cell's data,
    font and alignment: most of a second for 500 rows), then resizable by hand."""
    view = QTableView()
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.Interactive)
    header.setSectionResizeMode(stretch_column, QHeaderView.Stretch)
    header.setResizeContentsPrecision(0)
    model.modelReset.connect(lambda: _fit_columns(view, stretch_column))
    return view


def _fit_columns(view: QTableView, stretch_column: int) -> None:
    """Size every column but the stretching one to its contents (sizing that one too
    would stop it stretching)."""
    for column in range(view.model().columnCount()):
        if column != stretch_column:
            view.resizeColumnToContents(column)
