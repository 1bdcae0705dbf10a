"""The main window: the project list on the left, the open project on the right."""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QMainWindow, QMessageBox, QPushButton, QSplitter,
                               QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from engine.store import projects
from engine.store.projects import ProjectError
from gui.bridge import EngineBridge
from gui.widgets.compact import compact_combos
from gui.dialogs import NewProjectDialog
from gui.panels.project import ProjectPanel
from gui.panels.stages import build_stage_panels

PROJECT_ID_ROLE = Qt.UserRole


class MainWindow(QMainWindow):
    """Lists the workspace's projects and shows the selected one.

    Args:
        db: the workspace store (main-thread connection, small reads only).
        bridge: runs the jobs and relays their events.
    """

    def __init__(self, db: sqlite_utils.Database, bridge: EngineBridge) -> None:
        super().__init__()
        self.db, self.bridge = db, bridge
        self.new_project_dialog: NewProjectDialog | None = None
        self.setWindowTitle("Enclave")
        self.resize(1280, 820)
        self.project_panel = ProjectPanel(db, bridge)
        self.stage_panels = build_stage_panels(db, bridge)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.project_panel, "Overview")
        for title, panel in self.stage_panels:
            self.tabs.addTab(panel, title)
        compact_combos(self.tabs)
        self._build_sidebar()
        self.empty_label = QLabel("Create a project, or select one on the left.")
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setAlignment(Qt.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.tabs)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 1040])
        self.setCentralWidget(splitter)
        self.refresh_projects()
        bridge.job_finished.connect(self._on_job_finished)
        if bridge.recovered:
            self.statusBar().showMessage(
                f"{len(bridge.recovered)} job(s) had stopped with Enclave and are marked "
                "interrupted.")

    def _build_sidebar(self) -> None:
        self.sidebar = QWidget()
        self.sidebar.setObjectName("sidebar")
        self.project_list = QListWidget()
        self.project_list.currentItemChanged.connect(self._on_current_item_changed)
        self.new_button = QPushButton("New project…")
        self.new_button.setObjectName("primary")
        self.delete_button = QPushButton("Delete")
        self.new_button.clicked.connect(self._on_new_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        title = QLabel("Projects")
        title.setObjectName("sectionTitle")
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button, 1)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self.sidebar)
        layout.setContentsMargins(12, 12, 8, 12)
        layout.addWidget(title)
        layout.addWidget(self.project_list, 1)
        layout.addLayout(buttons)

    # public API -------------------------------------------------------------

    def refresh_projects(self, select_id: int | None = None) -> None:
        """Reload the project list, keeping (or moving to) a selection."""
        keep = select_id if select_id is not None else self.current_project_id()
        self.project_list.blockSignals(True)
        self.project_list.clear()
        for project in projects.list_all(self.db):
            item = QListWidgetItem(project["name"])
            item.setData(PROJECT_ID_ROLE, project["id"])
            item.setToolTip(project.get("description") or project["name"])
            self.project_list.addItem(item)
            if project["id"] == keep:
                self.project_list.setCurrentItem(item)
        self.project_list.blockSignals(False)
        self._show_project(self.current_project_id())

    def current_project_id(self) -> int | None:
        """The selected project's id, or None."""
        item = self.project_list.currentItem()
        return item.data(PROJECT_ID_ROLE) if item is not None else None

    def open_project(self, project_id: int) -> None:
        """Select a project in the list and show it."""
        self.refresh_projects(select_id=project_id)

    def select_project_by_name(self, name: str) -> bool:
        """Open the project with this name; returns False when there is none."""
        project = projects.find(self.db, name)
        if project is None:
            return False
        self.open_project(project["id"])
        return True

    def create_project(self, name: str, description: str = "") -> int:
        """Create a project and open it (raises ProjectError on a bad name)."""
        project_id = projects.create(self.db, name, description)
        self.open_project(project_id)
        return project_id

    # slots ------------------------------------------------------------------

    @Slot()
    def _on_new_clicked(self) -> None:
        self.new_project_dialog = NewProjectDialog(self.create_project, self)
        self.new_project_dialog.open()

    @Slot()
    def _on_delete_clicked(self) -> None:
        project_id = self.current_project_id()
        if project_id is None:
            return
        name = self.project_list.currentItem().text()
        answer = QMessageBox.question(
            self, "Delete project",
            f"Delete the project '{name}' with its datasets, jobs and results?\n"
            "This cannot be undone.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return
        try:
            projects.delete(self.db, project_id)
        except ProjectError as exc:
            QMessageBox.warning(self, "Delete project", str(exc))
            return
        self.refresh_projects()

    def _on_current_item_changed(self, current: QListWidgetItem | None, _previous) -> None:
        self._show_project(current.data(PROJECT_ID_ROLE) if current is not None else None)

    @Slot(int, dict)
    def _on_job_finished(self, _job_id: int, _row: dict) -> None:
        """Any job that ends may change what any panel shows: every panel reloads."""
        for panel in self.panels():
            panel.refresh()

    def panels(self) -> list[QWidget]:
        """The Overview and every stage panel, in tab order."""
        return [self.project_panel, *(panel for _title, panel in self.stage_panels)]

    def _show_project(self, project_id: int | None) -> None:
        self.delete_button.setEnabled(project_id is not None)
        if project_id != self.project_panel.project_id:
            for panel in self.panels():
                panel.set_project(project_id)
        self.stack.setCurrentWidget(self.tabs if project_id is not None else self.empty_label)
