"""The window's Help menu (Help → About Enclave). Kept apart from the main
window so that other menus can be added there without touching this one."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu

from gui.about import AboutDialog


def install_help_menu(window: QMainWindow) -> QMenu:
    """Add Help → About Enclave to ``window``'s menu bar (created if it has none)."""
    bar = window.menuBar()
    existing = [action.menu() for action in bar.actions()
                if action.menu() is not None and action.menu().objectName() == "helpMenu"]
    if existing:
        return existing[0]
    menu = bar.addMenu("&Help")
    menu.setObjectName("helpMenu")
    about = QAction("&About Enclave", window)
    about.setObjectName("aboutAction")
    about.triggered.connect(lambda: AboutDialog(window).exec())
    menu.addAction(about)
    return menu
