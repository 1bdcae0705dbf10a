"""Small dialogs of the main window."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout)

from engine.store.projects import ProjectError


class NewProjectDialog(QDialog):
    """Asks for a project name and description; stays open on a refused name.

    Args:
        create: makes the project from (name, description) and returns its id;
            raises ProjectError to refuse.
    """

    def __init__(self, create: Callable[[str, str], int], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.setMinimumWidth(420)
        self._create = create
        self.project_id: int | None = None
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Discharge summaries")
        self.description_edit = QLineEdit()
        self.description_edit.setPlaceholderText("optional")
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
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _on_name_changed(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(text.strip()))

    def accept(self) -> None:
        """Create the project; on a refusal show why and stay open."""
        try:
            self.project_id = self._create(self.name_edit.text(),
                                           self.description_edit.text().strip())
        except ProjectError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        super().accept()
