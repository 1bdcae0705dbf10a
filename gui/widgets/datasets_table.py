"""The dataset versions of a project as a table."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

COLUMNS = [("Name", "name"), ("Version", "version"), ("Kind", "kind"),
           ("Records", "record_count")]

Index = QModelIndex | QPersistentModelIndex


class DatasetsTableModel(QAbstractTableModel):
    """Rows are dataset rows from the store, oldest first."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[dict] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section][0]
        return None

    def data(self, index: Index, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        key = COLUMNS[index.column()][1]
        value = self._rows[index.row()].get(key)
        if role == Qt.DisplayRole:
            if key == "record_count" and value is not None:
                return f"{value:,}"
            return "" if value is None else str(value)
        if role == Qt.TextAlignmentRole and key in ("version", "record_count"):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def set_datasets(self, rows: list[dict]) -> None:
        """Replace every row; unchanged rows cause no reset."""
        if [r.get("id") for r in rows] == [r.get("id") for r in self._rows]:
            return
        self.beginResetModel()
        self._rows = [dict(row) for row in rows]
        self.endResetModel()
