"""Small dialogs of the main window."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from engine.data.phi.policy import DEFAULT_POLICY, POLICIES
from engine.store.projects import ProjectError
from gui.widgets.redaction_policy import TITLES

# One plain line per redaction policy, for the person who creates the project.
POLICY_LINES = {
    "clinical": "For patient records: names, dates (except the year), phone numbers, "
                "addresses, record numbers and the other HIPAA identifiers become placeholders "
                "such as [NAME].",
    "legal": "For case files: names of parties, addresses, case, docket and account "
             "numbers, phones and e-mails become placeholders such as [NAME].",
    "general": "For other text: only names of people, phones, e-mails and record numbers "
               "are replaced; dates and historical names stay.",
    "off": "Nothing is replaced. Only for data that holds no personal information.",
}


class NewProjectDialog(QDialog):
    """Asks for a project name, description and redaction policy; stays open on a
    refused name.

    Args:
        create: makes the project from (name, description, redaction policy) and returns
            its id; raises ProjectError to refuse.
    """

    def __init__(self, create: Callable[[str, str, str], int], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.setMinimumWidth(420)
        self._create = create
        self.project_id: int | None = None
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Discharge summaries")
        self.description_edit = QLineEdit()
        self.description_edit.setPlaceholderText("optional")
        self.policy_combo = QComboBox()
        self.policy_combo.setAccessibleName("Redaction policy")
        for policy in POLICIES:
            self.policy_combo.addItem(TITLES[policy], policy)
        self.policy_combo.setCurrentIndex(self.policy_combo.findData(DEFAULT_POLICY))
        self.policy_line = QLabel()
        self.policy_line.setWordWrap(True)
        self.policy_line.setObjectName("subtitle")
        self.policy_combo.currentIndexChanged.connect(self._on_policy_changed)
        self._on_policy_changed()
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Create")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.name_edit.textChanged.connect(self._on_name_changed)
        self._on_name_changed("")
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        form.addRow("Redaction", self.policy_combo)
        form.addRow("", self.policy_line)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _on_name_changed(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(text.strip()))

    def policy(self) -> str:
        """The chosen redaction policy."""
        return self.policy_combo.currentData()

    def _on_policy_changed(self, *_args) -> None:
        self.policy_line.setText(POLICY_LINES[self.policy()] + " It can change until the "
                                 "data is first cleaned.")

    def accept(self) -> None:
        """Create the project; on a refusal show why and stay open."""
        try:
            self.project_id = self._create(self.name_edit.text(),
                                           self.description_edit.text().strip(), self.policy())
        except ProjectError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        super().accept()
