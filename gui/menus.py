"""The menu bar: File, Edit, View, Help, with the usual shortcuts.

File: New project (Ctrl+N), Import data (Ctrl+O), Open project folder, Quit (Ctrl+Q).
Edit: Rename project, Delete project. View: Guided path (Ctrl+1), Show details (Ctrl+D),
Reload (F5), theme. Help: Enclave help (F1), Try the demo project, About Enclave.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu

from gui import theme
from gui.help_menu import install_help_menu


def _action(window: QMainWindow, menu: QMenu, text: str, slot, name: str,
            shortcut: QKeySequence | str | None = None, tip: str = "") -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setStatusTip(tip)
    action.setToolTip(tip or text.replace("&", "").rstrip("…"))
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def install_menus(window) -> dict[str, QAction]:
    """Build the window's menu bar; returns its actions by object name."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    acts = [
        _action(window, file_menu, "&New project…", window.new_project, "newProjectAction",
                QKeySequence.New, "Create an empty project"),
        _action(window, file_menu, "&Import data…", window.import_data, "importAction",
                QKeySequence.Open, "Bring a file of examples into the open project"),
        _action(window, file_menu, "Open project &folder", window.open_project_folder,
                "openFolderAction", None, "Show the project's files in the file manager"),
    ]
    file_menu.addSeparator()
    acts.append(_action(window, file_menu, "&Quit", QApplication.closeAllWindows,
                        "quitAction", QKeySequence.Quit, "Close Enclave"))
    edit_menu = bar.addMenu("&Edit")
    acts += [
        _action(window, edit_menu, "&Rename project…", window.rename_project,
                "renameAction", "F2", "Give the open project another name"),
        _action(window, edit_menu, "&Delete project…", window.delete_project,
                "deleteAction", QKeySequence.Delete, "Delete the open project and its files"),
    ]
    view_menu = bar.addMenu("&View")
    acts.append(_action(window, view_menu, "&Guided path", window.show_guide, "guideAction",
                        "Ctrl+1", "The step-by-step path"))
    details = _action(window, view_menu, "Show &details (expert tabs)", window.set_details,
                      "detailsAction", "Ctrl+D", "Show every setting of every stage")
    details.setCheckable(True)
    acts.append(details)
    acts.append(_action(window, view_menu, "&Reload", window.reload, "reloadAction",
                        QKeySequence.Refresh, "Read the project again from the workspace"))
    themes = view_menu.addMenu("&Theme")
    group = QActionGroup(window)
    for name in ("system", *theme.THEMES):
        choice = _action(window, themes, name.capitalize(),
                         lambda _on=False, n=name: window.set_theme(n), f"theme_{name}")
        choice.setCheckable(True)
        choice.setChecked(name == "system")
        group.addAction(choice)
    help_menu = install_help_menu(window)
    first = help_menu.actions()[0] if help_menu.actions() else None
    help_action = _action(window, help_menu, "Enclave &help", window.show_help, "helpAction",
                          QKeySequence.HelpContents, "What each step does, in plain words")
    demo = _action(window, help_menu, "Try the &demo project", window.try_demo, "demoAction",
                   None, "Run every step on made-up clinical notes, in a separate project")
    if first is not None:  # help and demo above About
        help_menu.removeAction(help_action)
        help_menu.removeAction(demo)
        help_menu.insertAction(first, help_action)
        help_menu.insertAction(first, demo)
        help_menu.insertSeparator(first)
    acts += [help_action, demo]
    return {action.objectName(): action for action in acts}
