"""Help → About: the version, where the workspace lives, and the self-check
(`enclave doctor`) run in its own process, with its report ready to copy."""

from __future__ import annotations

import platform
import sys

import PySide6
from PySide6.QtCore import QProcess, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import engine
from engine import paths
from gui import theme
from gui.guide_presets import device_words


def about_text() -> str:
    """The version lines shown at the top of the About box."""
    return (f"Enclave {engine.__version__}\n"
            f"Python {platform.python_version()} · PySide6 {PySide6.__version__} · "
            f"{platform.system()} {platform.release()}\n"
            f"Device: {device_words()}\n"
            f"Offline: network blocked in jobs (no download, local model files only)\n"
            f"Workspace: {paths.workspace_db()}")


class AboutDialog(QDialog):
    """Version, workspace location and the self-check report."""

    check_finished = Signal(int)  # the doctor's exit code

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Enclave")
        self.resize(720, 520)
        icon = QLabel()
        icon.setPixmap(theme.app_icon().pixmap(64, 64))
        title = QLabel(about_text())
        title.setObjectName("aboutVersion")
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head = QHBoxLayout()
        head.addWidget(icon)
        head.addWidget(title, 1)
        self.report = QPlainTextEdit(readOnly=True)
        self.report.setPlaceholderText("Run the self-check to see versions, device, bundled "
                                       "models, workspace, disk space and the network proof.")
        self.check_button = QPushButton("Run self-check")
        self.check_button.setObjectName("primary")
        self.copy_button = QPushButton("Copy report")
        close = QPushButton("Close")
        self.check_button.clicked.connect(self.run_check)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.report, 1)
        layout.addLayout(buttons)
        self._process: QProcess | None = None

    def run_check(self) -> None:
        """Start `enclave doctor` in a child process; the report appears when it ends."""
        if self._process is not None:
            return
        self.report.setPlainText("Running the self-check…")
        self.check_button.setEnabled(False)
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.finished.connect(self._on_process_finished)
        self._process = process
        process.start(sys.executable, ["-P", "-m", "engine.cli", "doctor"])  # -P: never the cwd

    def _on_process_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        output = bytes(self._process.readAllStandardOutput()).decode("utf-8", "replace")
        self.report.setPlainText(output.strip() or f"The self-check ended with code {code}.")
        self._process.deleteLater()
        self._process = None
        self.check_button.setEnabled(True)
        self.check_finished.emit(code)

    def _on_copy_clicked(self) -> None:
        text = about_text() + "\n\n" + self.report.toPlainText()
        QGuiApplication.clipboard().setText(text)

    def done(self, result: int) -> None:  # noqa: D401  (Qt override)
        """Stop a running self-check before the dialog closes."""
        if self._process is not None:
            self._process.kill()
            self._process.waitForFinished(2000)
        super().done(result)
