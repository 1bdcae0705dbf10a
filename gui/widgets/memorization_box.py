"""The Evaluate tab's memorization check: does the tuned model repeat identifiers or
planted canaries of its training data? Rates for the tuned model beside its base."""

from __future__ import annotations

import sqlite_utils
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.evaluate.privacy_job import latest_check
from gui.jobs import follow_jobs
from gui.widgets.run_picker import fill_run_picker

HEADERS = ("Model", "Identifiers tried", "Repeated exactly", "Partly", "Canaries tried",
           "Canaries repeated", "Exposure (bits)")


def rows_of(summary: dict) -> list[list[str]]:
    """Table rows (text) of a check's summary."""
    out = []
    for name, side in summary["sides"].items():
        ids, canary = side["identifier"], side["canary"]
        out.append([name, str(ids["probes"]), f"{ids['exact']:.0%}", f"{ids['partial']:.0%}",
                    str(canary["probes"]), f"{canary['exact']:.0%}",
                    f"{canary['exposure_max']:.1f}"])
    return out


def verdict(summary: dict) -> str:
    """One sentence a nurse manager can act on."""
    if summary["flagged"]:
        return ("Warning: the tuned model repeats training identifiers or canaries. Do not "
                "share it; exporting it needs an acknowledgement that is recorded.")
    return "The tuned model did not repeat the identifiers or canaries it was trained on."


class MemorizationBox(QGroupBox):
    """Run and show the memorization check of a training run."""

    def __init__(self, db: sqlite_utils.Database, bridge, parent: QWidget | None = None) -> None:
        super().__init__("Memorization check (before a model leaves this computer)", parent)
        self.db = db
        self.project_id: int | None = None
        self.run_combo = QComboBox()
        self.check_button = QPushButton("Check memorization")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.setMaximumHeight(110)
        self.table.setToolTip("How often the model, given the text before an identifier or a "
                              "planted canary, writes it out. Exposure: how strongly it "
                              "prefers the true canary over 99 random ones (6.6 = always).")
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        self.status_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("Training run"))
        top.addWidget(self.run_combo, 1)
        top.addWidget(self.check_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.status_label)
        self.job = follow_jobs(bridge, self)
        self.job.busy_widgets = [self.check_button]
        self.job.status_label = self.status_label
        self.job.succeeded.connect(lambda _result: self.show_latest())
        self.check_button.clicked.connect(self.start_check)
        self.run_combo.currentIndexChanged.connect(self.show_latest)

    def set_project(self, project_id: int | None) -> None:
        """Offer the project's training runs and show the newest check of the chosen one."""
        self.project_id = project_id
        self.run_combo.clear()
        self.refresh()

    def refresh(self) -> None:
        """Reload the training runs (keeping the chosen one) and the newest check."""
        fill_run_picker(self.run_combo, self.db, self.project_id, ("train",),
                        keep=self.run_combo.currentData())
        self.check_button.setEnabled(self.run_combo.count() > 0 and not self.job.running)
        self.show_latest()

    def start_check(self) -> int | None:
        """Run the check as a job on the chosen run."""
        run_id = self.run_combo.currentData()
        if run_id is None or self.project_id is None:
            return None
        return self.job.start("evaluate.privacy", {"run_id": run_id}, self.project_id,
                              "Memorization check")

    def show_latest(self) -> None:
        """Show the newest check of the chosen run (or say there is none)."""
        run_id = self.run_combo.currentData()
        summary = latest_check(self.db, run_id) if run_id is not None else None
        rows = rows_of(summary) if summary else []
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            for column, text in enumerate(row):
                self.table.setItem(index, column, QTableWidgetItem(text))
        self.verdict_label.setText(verdict(summary) if summary else
                                   "Not checked yet: run the check before exporting the model.")
