"""The Data tab's purge control: after a redacting clean, delete the unredacted data for
good, behind a checkbox that says plainly what will be lost. The purge rewrites the
workspace file (VACUUM), so it runs off the main thread."""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from engine.data.privacy import redaction_mode
from engine.data.purge import PurgeRefused, purge_raw, raw_versions
from gui.tasks import runner
from gui.widgets.messages import for_window
from gui.widgets.status import show_status

WARNING = ("Deletes for good the imported records as they were before redaction, and the "
           "raw text of quarantined lines. The cleaned (redacted) data, the record counts, "
           "their fingerprints and the audit trail stay. This cannot be undone.")


class PurgeBox(QGroupBox):
    """Purge raw data of one project.

    Signals:
        purged(result): the purge ran (versions, records, quarantined counts).
        failed(message): the purge was refused or failed; nothing was removed.
    """

    purged = Signal(dict)
    failed = Signal(str)

    def __init__(self, db: sqlite_utils.Database, parent: QWidget | None = None) -> None:
        super().__init__("Remove the unredacted data", parent)
        self.db = db
        self.project_id: int | None = None
        self.busy = False
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

    def refresh(self) -> None:
        """Check again whether a purge is possible (after a clean or a purge)."""
        self._update()

    def _available(self) -> bool:
        return (not self.busy and self.project_id is not None
                and redaction_mode(self.db, self.project_id) is not None
                and bool(raw_versions(self.db, self.project_id)))

    def _update(self) -> None:
        available = self._available()
        self.setEnabled(available or self.busy)
        self.setToolTip("" if available or self.busy else "Available after a clean that "
                        "redacts identifiers, while unredacted versions remain.")
        self.confirm_box.setEnabled(not self.busy)
        self.purge_button.setEnabled(available and self.confirm_box.isChecked()
                                     and not self.busy)

    def purge(self) -> bool:
        """Start the purge off the main thread (the checkbox must be ticked); the button
        stays disabled until it ends. Returns whether it started."""
        if not self.confirm_box.isChecked() or self.project_id is None or self.busy:
            return False
        self.busy = True
        self._update()
        show_status(self.status_label, "Removing the unredacted data and rewriting the "
                    "workspace file… You can keep working meanwhile.")
        project_id = self.project_id
        runner().run_with_store(self.db, lambda db: purge_raw(db, project_id),
                                self._on_done, self._on_error)
        return True

    def _on_done(self, result: dict) -> None:
        self.busy = False
        show_status(self.status_label, f"Done: removed {result['records']} unredacted records "
                    f"in {len(result['versions'])} version(s) and {result['quarantined']} raw "
                    "quarantined line(s). The cleaned data is untouched.")
        self.confirm_box.setChecked(False)
        self._update()
        self.purged.emit(result)

    def _on_error(self, exc: Exception) -> None:
        self.busy = False
        message = str(exc) if isinstance(exc, PurgeRefused) else \
            f"The purge did not run: {for_window(str(exc))}"
        show_status(self.status_label, message, error=True)
        self._update()
        self.failed.emit(message)
