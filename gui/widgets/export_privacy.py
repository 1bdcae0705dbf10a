"""The export step's privacy part: the memorization check's warning, with the explicit
acknowledgement a flagged model needs, and the choice to seal the export as an encrypted
archive with its own passphrase.

The rule lives in :mod:`engine.evaluate.export_check` (the same one `enclave export`
applies); this box only shows it and collects the user's answers.
"""

from __future__ import annotations

import html

import sqlite_utils
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engine.evaluate.export_check import ExportVerdict, export_verdict
from gui.passphrase import advice

ACKNOWLEDGE = "I understand the risk: export it anyway"
SEAL = "Seal as an encrypted archive (AES-256-GCM)"
SEAL_NOTE = ("The export becomes one encrypted file that only this passphrase opens "
             "(enclave export-open). Without it nobody, including you, can open it.")


def warning_text(verdict: ExportVerdict | None) -> str:
    """What the box says about the chosen run's memorization check."""
    if verdict is None:
        return ""
    if not verdict.checked:
        return ("This model's memorization check has not run yet. Run it in the Evaluate "
                "tab before the model leaves this computer.")
    if not verdict.flagged:
        return "Memorization check passed: the model did not repeat its training identifiers."
    return ("<b>Warning: this model may repeat patients' or clients' identifiers.</b> "
            + html.escape(verdict.plain()) + " Do not share it outside the organisation. "
            "Exporting it anyway is recorded in the audit trail with your name.")


class ExportPrivacyBox(QGroupBox):
    """Memorization warning and sealing choice for one run's export.

    Signals:
        changed(): the verdict or an answer changed (the panel re-checks its button).
    """

    changed = Signal()

    def __init__(self, db: sqlite_utils.Database, parent: QWidget | None = None) -> None:
        super().__init__("Before the model leaves this computer", parent)
        self.db = db
        self.verdict: ExportVerdict | None = None
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextFormat(Qt.RichText)
        self.acknowledge_box = QCheckBox(ACKNOWLEDGE)
        self.acknowledge_box.setAccessibleName("Acknowledge the memorization warning")
        self.seal_box = QCheckBox(SEAL)
        self.seal_box.setToolTip(SEAL_NOTE)
        self.passphrase_edit, self.repeat_edit = QLineEdit(), QLineEdit()
        for edit, name in ((self.passphrase_edit, "Archive passphrase"),
                           (self.repeat_edit, "Archive passphrase again")):
            edit.setEchoMode(QLineEdit.Password)
            edit.setAccessibleName(name)
            edit.textChanged.connect(self._on_passphrase_changed)
        self.advice_label = QLabel()
        self.advice_label.setWordWrap(True)
        self.advice_label.setObjectName("subtitle")
        self.seal_fields = QWidget()
        form = QFormLayout(self.seal_fields)
        form.setContentsMargins(18, 0, 0, 0)
        form.addRow("Archive passphrase", self.passphrase_edit)
        form.addRow("Once more", self.repeat_edit)
        form.addRow(self.advice_label)
        layout = QVBoxLayout(self)
        for widget in (self.warning_label, self.acknowledge_box, self.seal_box,
                       self.seal_fields):
            layout.addWidget(widget)
        self.acknowledge_box.toggled.connect(self.changed)
        self.seal_box.toggled.connect(self._on_seal_toggled)
        self._on_seal_toggled(False)
        self.show_run(None)

    def show_run(self, run_id: int | None) -> None:
        """Show the verdict for exporting ``run_id``; another run or a newer check asks
        for the acknowledgement again."""
        verdict = export_verdict(self.db, run_id) if run_id is not None else None
        same = verdict == self.verdict
        self.verdict = verdict
        self.warning_label.setText(warning_text(self.verdict))
        self.warning_label.setToolTip(f"Memorization check {self.verdict.check['privacy_run_id']}"
                                      f": {self.verdict.figures()}" if self.flagged else "")
        self.warning_label.setVisible(self.verdict is not None)
        if not same:
            self.acknowledge_box.setChecked(False)
        self.acknowledge_box.setVisible(self.flagged)
        self.changed.emit()

    @property
    def flagged(self) -> bool:
        return bool(self.verdict and self.verdict.flagged)

    def acknowledged(self) -> bool:
        """Whether the user ticked the acknowledgement of a flagged model."""
        return self.flagged and self.acknowledge_box.isChecked()

    def sealing(self) -> bool:
        return self.seal_box.isChecked()

    def problem(self) -> str | None:
        """Why the export cannot start yet, in words (None when it can)."""
        if self.flagged and not self.acknowledge_box.isChecked():
            return ("This model may repeat identifiers: read the warning under 'Before the "
                    "model leaves this computer' (Compress tab) and tick the box to export it "
                    "anyway, or do not export it.")
        if self.sealing():
            phrase = self.passphrase_edit.text()
            if not phrase:
                return "Choose a passphrase for the encrypted archive."
            if phrase != self.repeat_edit.text():
                return "The two archive passphrases differ; type the same one twice."
        return None

    def take_passphrase(self) -> str | None:
        """The archive passphrase when sealing (the fields are cleared), else None."""
        if not self.sealing():
            return None
        phrase = self.passphrase_edit.text()
        self.passphrase_edit.clear()
        self.repeat_edit.clear()
        return phrase

    def _on_seal_toggled(self, on: bool) -> None:
        self.seal_fields.setVisible(on)
        self.changed.emit()

    def _on_passphrase_changed(self, _text: str) -> None:
        self.advice_label.setText(advice(self.passphrase_edit.text())[1])
        self.changed.emit()
