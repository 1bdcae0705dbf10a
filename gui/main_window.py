"""The main window: projects on the left; the open project's guided path, overview and (under
Details) the expert stage tabs on the right; a menu bar; remembered size and project."""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine import paths
from engine.data.phi.policy import DEFAULT_POLICY
from engine.data.redaction_policy import set_project_policy
from engine.store import projects
from engine.store.projects import ProjectError
from gui import tasks, theme, window_state
from gui.bridge import EngineBridge
from gui.dialogs import NewProjectDialog
from gui.jobs import controller_for
from gui.menus import install_menus
from gui.panels.guide import GuidePanel
from gui.panels.project import DEMO_DESCRIPTION, ProjectPanel
from gui.panels.stages import build_stage_panels
from gui.widgets.accessible import name_inputs
from gui.widgets.compact import compact_combos

PROJECT_ID_ROLE = Qt.UserRole
# Shown only under View → Show details (or a guide step's "Details…"): the full forms.
EXPERT_TABS = frozenset({"Data", "Selection", "Training", "Compress", "Evaluate"})


class MainWindow(QMainWindow):
    """Lists the workspace's projects and shows the selected one.

    Signals:
        project_deleted(project_id): a project was deleted (off the main thread).
        notified(title, text): a desktop notification was shown.

    Args:
        db: the workspace store (main-thread connection, small reads only).
        bridge: runs the jobs and relays their events.
    """

    project_deleted = Signal(int)
    notified = Signal(str, str)

    def __init__(self, db: sqlite_utils.Database, bridge: EngineBridge) -> None:
        super().__init__()
        self.db, self.bridge = db, bridge
        self.jobs = controller_for(bridge)
        self.new_project_dialog: NewProjectDialog | None = None
        self.help_dialog = None
        self.theme_choice = "system"
        self.setWindowTitle("Enclave")
        self.resize(1280, 800)
        self.project_panel = ProjectPanel(db, self.jobs)
        self.stage_panels = build_stage_panels(db, self.jobs)
        self.guide = GuidePanel(db, self.jobs, dict(self.stage_panels))
        self.guide.details_requested.connect(self.show_details_of)
        self._build_tabs()
        self._build_sidebar()
        self.empty_label = QLabel("Create a project with File → New project (Ctrl+N), or "
                                  "select one on the left.")
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setAlignment(Qt.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.tabs)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 1060])
        self.setCentralWidget(self.splitter)
        self.actions_by_name = install_menus(self)
        self.tray = QSystemTrayIcon(theme.app_icon(), self) \
            if QSystemTrayIcon.isSystemTrayAvailable() else None
        self.jobs.job_finished.connect(self._on_job_finished)
        self.jobs.long_job_ended.connect(self._on_long_job_ended)
        last_project, details = window_state.restore(self, {"main": self.splitter})
        self.set_details(details)
        self.refresh_projects(select_id=last_project)
        if bridge.recovered:
            self.statusBar().showMessage(
                f"{len(bridge.recovered)} job(s) had stopped with Enclave and are marked "
                "interrupted.")

    def _build_tabs(self) -> None:
        """One tab per panel, each in a scroll area: a panel wider or taller than a small
        screen scrolls instead of pushing the window past 1024×640."""
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self._pages: dict[int, QScrollArea] = {}
        for title, panel in (("Guided path", self.guide), ("Overview", self.project_panel),
                             *self.stage_panels):
            page = QScrollArea()
            page.setWidgetResizable(True)
            page.setFrameShape(QScrollArea.NoFrame)
            page.setWidget(panel)
            self._pages[id(panel)] = page
            self.tabs.addTab(page, title)
        compact_combos(self.tabs)
        self._stale: set[int] = set()
        self.tabs.currentChanged.connect(self._on_tab_changed)

    def show_panel(self, panel: QWidget) -> None:
        """Bring a panel's tab to the front."""
        self.tabs.setCurrentWidget(self._pages[id(panel)])

    def _build_sidebar(self) -> None:
        self.sidebar = QWidget()
        self.sidebar.setObjectName("sidebar")
        self.project_list = QListWidget()
        self.project_list.setAccessibleName("Projects")
        self.project_list.currentItemChanged.connect(self._on_current_item_changed)
        self.new_button = QPushButton("New project…")
        self.new_button.setObjectName("primary")
        self.delete_button = QPushButton("Delete")
        self.new_button.clicked.connect(self.new_project)
        self.delete_button.clicked.connect(self.delete_project)
        title = QLabel("Projects")
        title.setObjectName("sectionTitle")
        title.setBuddy(self.project_list)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button, 1)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self.sidebar)
        layout.setContentsMargins(12, 12, 8, 12)
        layout.addWidget(title)
        layout.addWidget(self.project_list, 1)
        layout.addLayout(buttons)

    # projects ---------------------------------------------------------------

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

    def create_project(self, name: str, description: str = "",
                       redaction_policy: str = DEFAULT_POLICY) -> int:
        """Create a project under a redaction policy (stored and audited as
        `enclave projects create --redaction-policy` does) and open it on its guided path
        (raises ProjectError)."""
        project_id = projects.create(self.db, name, description)
        set_project_policy(self.db, project_id, redaction_policy)
        self.open_project(project_id)
        self.show_guide()
        return project_id

    def panels(self) -> list[QWidget]:
        """The guide, the Overview and every stage panel, in tab order."""
        return [self.guide, self.project_panel,
                *(panel for _title, panel in self.stage_panels)]

    def _show_project(self, project_id: int | None) -> None:
        self.delete_button.setEnabled(project_id is not None)
        if project_id != self.project_panel.project_id:
            for panel in self.panels():
                panel.set_project(project_id)
        self.stack.setCurrentWidget(self.tabs if project_id is not None else self.empty_label)
        name = self.project_list.currentItem().text() if project_id is not None else ""
        self.setWindowTitle(f"{name} — Enclave" if name else "Enclave")
        for key in ("openFolderAction", "renameAction", "deleteAction", "importAction"):
            if key in getattr(self, "actions_by_name", {}):
                self.actions_by_name[key].setEnabled(project_id is not None)

    def _on_current_item_changed(self, current: QListWidgetItem | None, _previous) -> None:
        self._show_project(current.data(PROJECT_ID_ROLE) if current is not None else None)

    # menu actions -----------------------------------------------------------

    @Slot()
    def new_project(self) -> None:
        """Ask for a name and create the project (File → New project, Ctrl+N)."""
        self.new_project_dialog = NewProjectDialog(self.create_project, self)
        self.new_project_dialog.open()

    @Slot()
    def import_data(self) -> None:
        """File → Import data (Ctrl+O): the guide's first step, with the file chooser."""
        if self.current_project_id() is None:
            self.statusBar().showMessage("Create or select a project first (Ctrl+N).", 8000)
            return
        self.show_guide()
        self.guide.step_list.setCurrentRow(0)
        self.guide.run_step()

    @Slot()
    def open_project_folder(self):
        """Show the project's folder in the system's file manager; returns its path."""
        project_id = self.current_project_id()
        if project_id is None:
            return None
        folder = paths.project_dir(project_id)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.statusBar().showMessage(f"Project folder: {folder}", 15000)
        return folder

    @Slot()
    def rename_project(self) -> None:
        """Edit → Rename project (F2)."""
        project_id = self.current_project_id()
        if project_id is None:
            return
        name, ok = QInputDialog.getText(self, "Rename project", "New name:",
                                        text=self.project_list.currentItem().text())
        if not ok:
            return
        try:
            projects.rename(self.db, project_id, name)
        except ProjectError as exc:
            QMessageBox.warning(self, "Rename project", str(exc))
            return
        self.refresh_projects(project_id)

    @Slot()
    def delete_project(self) -> None:
        """Edit → Delete project: asks, then deletes off the main thread."""
        project_id = self.current_project_id()
        if project_id is None:
            return
        name = self.project_list.currentItem().text()
        answer = QMessageBox.question(
            self, "Delete project",
            f"Delete the project '{name}' with its datasets, jobs and results?\n"
            "This cannot be undone.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer == QMessageBox.Yes:
            self.delete_project_now(project_id)

    def delete_project_now(self, project_id: int) -> None:
        """Delete a project without asking (its files can be large: off the main thread)."""
        self.delete_button.setEnabled(False)
        self.statusBar().showMessage("Deleting the project…")
        self.project_list.setCurrentItem(None)
        tasks.runner().run_with_store(
            self.db, lambda db: projects.delete(db, project_id),
            lambda _none: self._on_project_deleted(project_id),
            lambda exc: self._on_delete_failed(exc))

    def _on_project_deleted(self, project_id: int) -> None:
        self.statusBar().showMessage("Project deleted.", 5000)
        self.refresh_projects()
        self.project_deleted.emit(project_id)

    def _on_delete_failed(self, exc: Exception) -> None:
        self.refresh_projects()
        if not isinstance(exc, ProjectError):
            raise exc
        QMessageBox.warning(self, "Delete project", str(exc))

    @Slot()
    def show_guide(self) -> None:
        """View → Guided path (Ctrl+1)."""
        self.show_panel(self.guide)

    @Slot(bool)
    def set_details(self, shown: bool) -> None:
        """View → Show details: the expert tabs with every setting (Ctrl+D)."""
        for index in range(self.tabs.count()):
            if self.tabs.tabText(index) in EXPERT_TABS:
                self.tabs.setTabVisible(index, shown)
        action = getattr(self, "actions_by_name", {}).get("detailsAction")
        if action is not None and action.isChecked() != shown:
            action.setChecked(shown)

    def details_shown(self) -> bool:
        """Whether the expert tabs are shown."""
        return any(self.tabs.isTabVisible(i) for i in range(self.tabs.count())
                   if self.tabs.tabText(i) in EXPERT_TABS)

    @Slot(str)
    def show_details_of(self, title: str) -> None:
        """Show the expert tabs and open the one called ``title``."""
        self.set_details(True)
        for index in range(self.tabs.count()):
            if self.tabs.tabText(index) == title:
                self.tabs.setCurrentIndex(index)

    @Slot()
    def reload(self) -> None:
        """View → Reload (F5): every panel reads the store again."""
        self.refresh_projects()
        for panel in self.panels():
            panel.refresh()

    def set_theme(self, name: str) -> None:
        """View → Theme: ``system``, ``light`` or ``dark``."""
        self.theme_choice = name
        theme.apply(QApplication.instance(), None if name == "system" else name)

    @Slot()
    def show_help(self) -> None:
        """Help → Enclave help (F1)."""
        from gui.help_dialog import HelpDialog

        self.help_dialog = HelpDialog(self)
        self.help_dialog.open()

    @Slot()
    def try_demo(self) -> int:
        """Help → Try the demo project: a separate project, never the user's own."""
        name, number = "Demo", 1
        while projects.find(self.db, name):
            number += 1
            name = f"Demo {number}"
        project_id = projects.create(self.db, name, DEMO_DESCRIPTION, task="instruction")
        self.open_project(project_id)
        self.show_panel(self.project_panel)
        return self.project_panel.run_demo(quick=True)

    # events -----------------------------------------------------------------

    @Slot(int, dict)
    def _on_job_finished(self, _job_id: int, _row: dict) -> None:
        """Any job that ends may change what any panel shows: the open tab (and the guide,
        which says which steps are done) reloads now, the others when they are shown, so
        the end of a job costs the main thread one panel's reads, not every panel's."""
        self._stale = {id(panel) for panel in self.panels()}
        self._refresh_if_stale(self.guide)
        self._refresh_if_stale(self.current_panel())

    def current_panel(self) -> QWidget | None:
        """The panel of the open tab."""
        page = self.tabs.currentWidget()
        return page.widget() if isinstance(page, QScrollArea) else page

    def _refresh_if_stale(self, panel: QWidget | None) -> None:
        if panel is not None and id(panel) in self._stale:
            self._stale.discard(id(panel))
            panel.refresh()

    @Slot(int)
    def _on_tab_changed(self, _index: int) -> None:
        self._refresh_if_stale(self.current_panel())

    @Slot(int, dict, float)
    def _on_long_job_ended(self, job_id: int, row: dict, seconds: float) -> None:
        what = {"data.import": "Import", "data.clean": "Cleaning", "select": "Choosing "
                "examples", "train": "Teaching", "evaluate": "Checking", "demo": "The demo"
                }.get(row.get("kind"), "A job")
        state = "finished" if row.get("state") == "succeeded" else row.get("state")
        self.notify(f"{what} {state}", f"{self.windowTitle()}: job {job_id} took "
                    f"{seconds / 60:.0f} min.")

    def notify(self, title: str, text: str) -> None:
        """A desktop notification (system tray), or the status bar where there is no tray."""
        if self.tray is not None:
            self.tray.show()
            self.tray.showMessage(title, text, theme.app_icon(), 10_000)
        self.statusBar().showMessage(f"{title}. {text}", 15_000)
        self.notified.emit(title, text)

    def showEvent(self, event) -> None:  # noqa: N802  (Qt override)
        """Name every input after its label (tabs installed after construction too)."""
        name_inputs(self)
        super().showEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802  (Qt override)
        """Remember size, splitters, project and details before closing."""
        window_state.save(self, {"main": self.splitter}, self.current_project_id(),
                          self.details_shown())
        super().closeEvent(event)
