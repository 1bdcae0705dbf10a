"""The Data panel's redaction policy: the project's choice, and a dry run before cleaning.

The policy (clinical, legal, general, off) may change until the project's data is first
cleaned; then the choice is shown but locked. "Preview redaction" counts, per identifier
type, the spans a clean would replace in the data it would read, with a few examples shown
redacted (the raw identifiers never reach the window). The count runs off the main thread.
"""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.data.clean_run import CleanError, find_inputs
from engine.data.phi.policy import DESCRIPTIONS, POLICIES, PolicyError
from engine.data.redaction_policy import (
    dry_run,
    policy_locked,
    project_policy,
    set_project_policy,
)
from gui.tasks import runner
from gui.widgets.data_views import fill_table, read_only_table
from gui.widgets.messages import for_window

TITLES = {"clinical": "Clinical (HIPAA Safe Harbor)", "legal": "Legal",
          "general": "General (direct identifiers only)", "off": "Off (no redaction)"}


class RedactionPolicyBox(QGroupBox):
    """Policy choice and dry run for one project.

    Signals:
        dry_run_shown(dict): a dry run's outcome is on screen (tests wait on it).
    """

    dry_run_shown = Signal(dict)

    def __init__(self, db: sqlite_utils.Database, parent: QWidget | None = None) -> None:
        super().__init__("Redaction policy", parent)
        self.db, self.project_id = db, None
        self.combo = QComboBox()
        self.combo.setAccessibleName("Redaction policy")
        for policy in POLICIES:
            self.combo.addItem(TITLES[policy], policy)
            self.combo.setItemData(self.combo.count() - 1, DESCRIPTIONS[policy], Qt.ToolTipRole)
        self.combo.activated.connect(self._on_policy_activated)
        self.preview_button = QPushButton("Preview redaction")
        self.preview_button.clicked.connect(self.preview)
        self.note = QLabel(DESCRIPTIONS["clinical"])
        self.note.setWordWrap(True)
        self.note.setObjectName("subtitle")
        self.table = read_only_table(["Type", "Would replace", "Examples (shown redacted)"])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.setMaximumHeight(150)
        self.table.hide()  # until a dry run has something to show
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.preview_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addWidget(self.table)

    def set_project(self, project_id: int | None) -> None:
        """Show a project's policy; locked once its data was cleaned."""
        self.project_id = project_id
        fill_table(self.table, [])
        self.table.hide()
        if project_id is None:
            return
        policy = project_policy(self.db, project_id)
        self.combo.setCurrentIndex(list(POLICIES).index(policy))
        cleaned = policy_locked(self.db, project_id)
        self.combo.setEnabled(not cleaned)
        self.note.setText(DESCRIPTIONS[policy][0].upper() + DESCRIPTIONS[policy][1:] + (
            ". Locked: this project's data was cleaned under it." if cleaned
            else ". Can change until the first clean."))

    def _on_policy_activated(self, index: int) -> None:
        if self.project_id is None:
            return
        try:
            set_project_policy(self.db, self.project_id, self.combo.itemData(index))
        except PolicyError as exc:
            self.note.setText(for_window(str(exc)))
        self.set_project(self.project_id)

    def preview(self) -> None:
        """Count what a clean would replace, off the main thread."""
        if self.project_id is None:
            return
        project_id = self.project_id
        self.preview_button.setEnabled(False)
        self.note.setText("Counting identifiers…")

        def count(db):
            train, _, _ = find_inputs(db, project_id)
            return dry_run(db, project_id, train["id"]).to_dict()

        runner().run_with_store(self.db, count, self._show, self._failed)

    def _show(self, outcome: dict) -> None:
        self.preview_button.setEnabled(True)
        rows = [[kind, f"{count:,}", "  |  ".join(outcome["examples"].get(kind, []))]
                for kind, count in outcome["counts"].items()]
        fill_table(self.table, rows)
        self.table.setVisible(bool(rows))
        total = sum(outcome["counts"].values())
        self.note.setText(f"Under the {outcome['policy']} policy a clean would replace {total:,} "
                          f"identifiers in {outcome['records']:,} records."
                          if outcome["policy"] != "off" else "Policy off: nothing is replaced.")
        self.dry_run_shown.emit(outcome)

    def _failed(self, exc: Exception) -> None:
        self.preview_button.setEnabled(True)
        if not isinstance(exc, (CleanError, PolicyError)):
            raise exc
        self.note.setText(for_window(str(exc)))
