"""The jobs of a project as a table, with a progress bar drawn in its cells."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from engine.store.jobs import FINAL_STATES, SUCCEEDED

PROGRESS_ROLE = Qt.UserRole + 1  # int percent 0..100, or -1 when unknown
JOB_ID_ROLE = Qt.UserRole + 2

COLUMNS = ["ID", "Kind", "State", "Progress", "Message", "Error"]
PROGRESS_COLUMN = COLUMNS.index("Progress")
STATE_COLORS = {"running": "#1f5fa8", "queued": "#6b7280", "succeeded": "#1d7a46",
                "failed": "#b3261e", "cancelled": "#8a6d1d", "interrupted": "#8a6d1d"}
ERROR_COLOR = "#b3261e"

Index = QModelIndex | QPersistentModelIndex


def progress_percent(job: dict) -> int:
    """Percent done of a job row (100 once succeeded, -1 when not known yet)."""
    if job.get("state") == SUCCEEDED:
        return 100
    total, step = job.get("total") or 0, job.get("step") or 0
    if total <= 0:
        return -1
    return max(0, min(100, round(100 * step / total)))


class JobsTableModel(QAbstractTableModel):
    """Rows are job rows (dicts from the store), newest first."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._jobs: list[dict] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        job, column = self._jobs[index.row()], COLUMNS[index.column()]
        if role == Qt.DisplayRole:
            return self._display(job, column)
        if role == Qt.ToolTipRole and column in ("Message", "Error"):
            return job.get(column.lower()) or None
        if role == Qt.ForegroundRole:
            if column == "State":
                return QColor(STATE_COLORS.get(job.get("state"), "#222222"))
            if column == "Error":
                return QColor(ERROR_COLOR if job.get("state") == "failed" else "#6b7280")
        if role == PROGRESS_ROLE:
            return progress_percent(job)
        if role == JOB_ID_ROLE:
            return job["id"]
        return None

    @staticmethod
    def _display(job: dict, column: str) -> str:
        if column == "ID":
            return str(job["id"])
        if column == "Progress":
            pct = progress_percent(job)
            return "" if pct < 0 else f"{pct}%"
        if column == "Message":
            if job.get("state") == "succeeded":
                return "done"
            stage, message = job.get("stage") or "", job.get("message") or ""
            return f"{stage}: {message}" if stage and message else stage or message
        if column == "Error":
            lines = (job.get("error") or "").strip().splitlines()
            return lines[0] if lines else ""
        return str(job.get(column.lower()) or "")

    def set_jobs(self, jobs: list[dict]) -> None:
        """Replace every row (job rows, newest first)."""
        self.beginResetModel()
        self._jobs = [dict(job) for job in jobs]
        self.endResetModel()

    def row_of(self, job_id: int) -> int:
        """Row of a job, or -1."""
        return next((i for i, job in enumerate(self._jobs) if job["id"] == job_id), -1)

    def job(self, job_id: int) -> dict | None:
        """The row of a job as the table shows it."""
        row = self.row_of(job_id)
        return self._jobs[row] if row >= 0 else None

    def job_at(self, row: int) -> dict:
        return self._jobs[row]

    def running_ids(self) -> list[int]:
        """Jobs of this table not yet in a final state."""
        return [job["id"] for job in self._jobs if job.get("state") not in FINAL_STATES]

    def update_job(self, job_id: int, changes: dict) -> bool:
        """Merge ``changes`` into a job's row; returns False if the job is not shown."""
        row = self.row_of(job_id)
        if row < 0:
            return False
        self._jobs[row].update(changes)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        return True

    def apply_progress(self, job_id: int, event: dict) -> bool:
        """Show a progress event on a job's row (it is running by now)."""
        job = self.job(job_id)
        if job is None:
            return False
        changes = {key: event.get(key) for key in ("stage", "step", "total", "message")}
        if job.get("state") not in FINAL_STATES:
            changes["state"] = "running"
        return self.update_job(job_id, changes)


class ProgressBarDelegate(QStyledItemDelegate):
    """Paints the ``PROGRESS_ROLE`` of a cell as a progress bar."""

    def paint(self, painter, option: QStyleOptionViewItem, index: Index) -> None:
        percent = index.data(PROGRESS_ROLE)
        if percent is None or percent < 0:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(4, 5, -4, -5)
        bar.minimum, bar.maximum, bar.progress = 0, 100, int(percent)
        bar.text, bar.textVisible = f"{percent}%", True
        bar.textAlignment = Qt.AlignCenter
        bar.state = option.state | QStyle.State_Enabled | QStyle.State_Horizontal
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.CE_ProgressBar, bar, painter, option.widget)
