"""The folder an export was written to, with a button that copies its path."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLineEdit, QPushButton, QWidget


class ExportFolderRow(QWidget):
    """Shows the newest export folder; "Copy folder path" puts it on the clipboard.

    Signals:
        path_copied(path): the path is on the clipboard.
    """

    path_copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setAccessibleName("Exported folder")
        self.path_edit.setPlaceholderText("no export yet")
        self.copy_button = QPushButton("Copy folder path")
        self.copy_button.setToolTip("Copy where the export is, to open it or to run the "
                                    "model with Ollama or llama.cpp (see its README.md)")
        self.copy_button.clicked.connect(self.copy_path)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.path_edit, 1)
        layout.addWidget(self.copy_button)
        self.show_path(None)

    def show_path(self, path: str | None) -> None:
        """Show an export folder (None: none yet)."""
        self.path_edit.setText(path or "")
        self.copy_button.setEnabled(bool(path))

    def copy_path(self) -> str:
        """Put the folder path on the clipboard and return it."""
        path = self.path_edit.text()
        if path:
            QApplication.clipboard().setText(path)
            self.path_copied.emit(path)
        return path
