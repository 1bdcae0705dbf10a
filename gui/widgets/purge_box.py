"""The Data tab's purge control: after a redacting clean, delete the unredacted data for
good, behind a checkbox that says plainly what will be lost."""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.data.privacy import redaction_mode
from engine.data.purge import PurgeRefused, purge_raw, raw_versions
from gui.widgets.status import show_status

WARNING = ("Deletes for good the imported records as they were before redaction, and the "
           "raw text of quarantined lines. The cleaned (redacted) data, the record counts, "
           "their fingerprints and the audit trail stay. This cannot be undone.")


class PurgeBox(QGroupBox):
    """Purge raw data of one project.

    Signals:
        purged(result): the purge ran (versions, records, quarantined counts).
    """

    purged = Signal(dict)

    def __init__(self, db: sqlite_utils.Database, parent: QWidget | None = None) -> None:
        super().__init__("Remove the unredacted data", parent)
        self.db = db
        self.project_id: int | None = None
        warning = QLabel(WARNING)
        warning.setWordWrap(True)
        self.confirm_box = QCheckBox("I understand: delete the unredacted data for good")
        self.purge_button = QPushButton("Purge raw data")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        for widget in (warning, self.confirm_box, self.purge_button, self.status_label):
            layout.addWidget(widget)
        self.confirm_box.toggled.connect(self._update)
        self.purge_button.clicked.connect(self.purge)
        self.set_project(None)

    def set_project(self, project_id: int | None) -> None:
        """Show the project's state: purge possible only after a redacting clean."""
        self.project_id = project_id
        self.confirm_box.setChecked(False)
        self.status_label.clear()
        self._update()

    def _available(self) -> bool:
        return (self.project_id is not None and redaction_mode(self.db, self.project_id) is not None
                and bool(raw_versions(self.db, self.project_id)))

    def _update(self) -> None:
        available = self._available()
        self.setEnabled(available)
        self.setToolTip("" if available else "Available after a clean that redacts "
                        "identifiers, while unredacted versions remain.")
        self.purge_button.setEnabled(available and self.confirm_box.isChecked())

    def purge(self) -> dict | None:
        """Purge now (the checkbox must be ticked)."""
        if not self.confirm_box.isChecked() or self.project_id is None:
            return None
        try:
            result = purge_raw(self.db, self.project_id)
        except PurgeRefused as exc:
            show_status(self.status_label, str(exc), error=True)
            return None
        show_status(self.status_label, f"Removed {result['records']} unredacted records in "
                    f"{len(result['versions'])} version(s) and {result['quarantined']} raw "
                    "quarantined line(s).")
        self.confirm_box.setChecked(False)
        self._update()
        self.purged.emit(result)
        return result
