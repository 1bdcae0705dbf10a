"""Entry point of the desktop window: ``python -m gui.app``."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

import engine  # noqa: F401  (sets the offline switches first)
from engine import paths
from engine.store import StoreCorrupted, open_store
from gui import privacy, theme
from gui.bridge import EngineBridge
from gui.help_menu import install_help_menu
from gui.main_window import MainWindow
from gui.passphrase import unlock_at_start

EXIT_STORE_CORRUPTED = 2


def application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication (created once), styled with the packaged style sheet
    (light or dark, following the system) and the Enclave icon."""
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Enclave")
    app.setApplicationVersion(engine.__version__)
    app.setDesktopFileName("enclave")
    app.setStyle("Fusion")
    theme.apply(app)
    return app


def create_main_window(db_path: Path | None = None,
                       lock_minutes: float | None = None) -> MainWindow:
    """Open the workspace, recover stale jobs and build the window (with its Audit tab and,
    for an encrypted workspace, its automatic lock after ``lock_minutes`` idle; default:
    the setting, 15 minutes). An encrypted workspace must be unlocked first.

    Raises:
        StoreCorrupted: when the workspace file cannot be opened safely.
        PassphraseRequired: when it is encrypted and not unlocked.
    """
    db_path = Path(db_path or paths.workspace_db())
    db = open_store(db_path, migrate=True, check=True)
    bridge = EngineBridge(db_path)  # its runner marks stale running jobs interrupted
    window = MainWindow(db, bridge)
    bridge.setParent(window)
    install_help_menu(window)
    privacy.install(window, db_path, lock_minutes)
    theme.follow_system(QApplication.instance(), lambda: window.theme_choice == "system")
    QApplication.instance().aboutToQuit.connect(bridge.shutdown)
    return window


def main(argv: list[str] | None = None) -> int:
    """Run the window until it closes; returns the exit code (2: damaged workspace)."""
    app = application(argv)
    if not unlock_at_start(paths.workspace_db()):
        return 0
    try:
        window = create_main_window()
    except StoreCorrupted as exc:
        QMessageBox.critical(None, "Enclave cannot open its workspace", str(exc))
        return EXIT_STORE_CORRUPTED
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
