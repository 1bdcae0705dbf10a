"""The Audit view: who did what, on which machine, filtered by project, user and action;
a check of the chain (edited, inserted or deleted rows) and an export to CSV."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.store import audit, projects
from gui import tasks
from gui.widgets.status import show_status
from gui.widgets.text_table import TextTableModel, text_table_view

COLUMNS = (("time", "When (UTC)"), ("actor", "User"), ("host", "Computer"),
           ("what", "What happened"), ("object", "About"), ("outcome", "Outcome"),
           ("action", "Action code"))
WORDS = {"project.create": "Project created", "project.rename": "Project renamed",
         "project.delete": "Project deleted", "dataset.create": "Data version saved",
         "data.purge_raw": "Unredacted data purged", "data.plant_canaries": "Canaries planted",
         "job.queue": "Job started", "job.finish": "Job ended", "review.add": "Answer reviewed",
         "model.compress": "Model compressed", "model.export": "Model exported",
         "model.export.acknowledged": "Export of a flagged model acknowledged",
         "model.export.sealed": "Export encrypted", "model.export_open": "Encrypted export opened",
         "model.privacy_check": "Memorization checked", "workspace.encrypt": "Workspace encrypted",
         "workspace.rekey": "Passphrase changed"}
ACTIONS = ("dataset", "data.purge_raw", "job", "model", "review", "project", "workspace")
LIMIT = 500


def describe(row: dict) -> str:
    """The action in words, with the kind of data version or job where there is one."""
    detail = audit.detail(row)
    words = WORDS.get(row["action"], row["action"])
    kind = detail.get("kind")
    return f"{words} ({kind})" if kind else words


def cell(row: dict, key: str) -> str:
    """The text of one cell."""
    if key == "what":
        return describe(row)
    if key == "time":
        return str(row["time"]).replace("T", " ")[:19]
    if key == "object":
        return str(row["object"] or "").replace(":", " ")
    return str(row.get(key) or "")


class AuditPanel(QWidget):
    """The audit trail of the workspace (every project's)."""

    def __init__(self, db: sqlite_utils.Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.rows: list[dict] = []
        self.problems: list[audit.Break] = []
        self.project_combo = QComboBox()
        self.user_field = QLineEdit()
        self.user_field.setPlaceholderText("any user")
        self.action_combo = QComboBox()
        self.action_combo.addItem("All actions", None)
        for action in ACTIONS:
            self.action_combo.addItem(action, action)
        self.table_model = TextTableModel([title for _, title in COLUMNS], self)
        self.table = text_table_view(self.table_model, stretch_column=3)  # "What happened"
        self.verify_button = QPushButton("Check the trail")
        self.verify_button.setToolTip("Find rows that were changed, added or removed "
                                      "outside Enclave")
        self.export_button = QPushButton("Export CSV…")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self._build_layout()
        self.project_combo.currentIndexChanged.connect(self.refresh)
        self.action_combo.currentIndexChanged.connect(self.refresh)
        self.user_field.editingFinished.connect(self.refresh)
        self.verify_button.clicked.connect(self.verify)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.set_project(None)

    def _build_layout(self) -> None:
        filters = QHBoxLayout()
        for label, widget in (("Project", self.project_combo), ("User", self.user_field),
                              ("Action", self.action_combo)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.verify_button)
        filters.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status_label)

    def set_project(self, project_id: int | None) -> None:
        """Offer the workspace's projects and show the chosen one's rows (all when None)."""
        self.project_combo.blockSignals(True)
        self.project_combo.clear()
        self.project_combo.addItem("All projects", None)
        for row in projects.list_all(self.db):
            self.project_combo.addItem(row["name"], row["id"])
        index = self.project_combo.findData(project_id)
        self.project_combo.setCurrentIndex(max(index, 0))
        self.project_combo.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Reload the rows under the current filters."""
        project = self.project_combo.currentData()
        self.rows = audit.entries(self.db, LIMIT, project=str(project) if project else None,
                                  user=self.user_field.text().strip() or None,
                                  action=self.action_combo.currentData())
        self.table_model.set_rows([[cell(row, key) for key, _ in COLUMNS] for row in self.rows])

    def verify(self) -> None:
        """Check the whole chain on a worker (a long trail takes seconds) and say the
        outcome when it is known; the button waits until then."""
        self.verify_button.setEnabled(False)
        show_status(self.status_label, "Checking the audit trail…")
        tasks.runner().run_with_store(self.db, audit.check, self._show_verdict,
                                      self._verify_failed, owner=self)

    def _show_verdict(self, outcome: tuple[list[audit.Break], int]) -> None:
        problems, total = outcome
        self.problems = problems
        self.verify_button.setEnabled(True)
        if problems:
            where = "; ".join(f"row {p.row_id}: {p.problem}" for p in problems[:3])
            show_status(self.status_label, f"The audit trail was changed outside Enclave "
                        f"({len(problems)} problem(s)): {where}", error=True)
        else:
            show_status(self.status_label, f"The audit trail is intact: {total} rows, none "
                        "changed, added or removed outside Enclave.")

    def _verify_failed(self, error: Exception) -> None:
        self.verify_button.setEnabled(True)
        show_status(self.status_label, f"The audit trail could not be checked: {error}",
                    error=True)

    def export_csv(self, out: Path) -> None:
        """Write the rows shown to a CSV file."""
        audit.to_csv(self.rows, Path(out))
        show_status(self.status_label, f"{len(self.rows)} rows written to {out}")

    def _on_export_clicked(self) -> None:
        out, _ = QFileDialog.getSaveFileName(self, "Export the audit trail", "audit.csv",
                                             "CSV files (*.csv)")
        if out:
            self.export_csv(Path(out))
