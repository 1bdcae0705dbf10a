"""One open project: header, datasets, jobs with live progress, demo results."""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.store import datasets, jobs, projects, runs
from engine.store.jobs import FAILED, SUCCEEDED
from gui.bridge import EngineBridge
from gui.jobs import controller_for
from gui.widgets.datasets_table import DatasetsTableModel
from gui.widgets.jobs_table import PROGRESS_COLUMN, JobsTableModel, ProgressBarDelegate
from gui.widgets.messages import for_window
from gui.widgets.results_view import ResultsView

DEMO_KIND = "demo"
DEMO_DESCRIPTION = "Clinical instruction demo"  # as engine.demo.pipeline.ensure_project


def _table(model, stretch_column: int) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(28)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    header.setSectionResizeMode(stretch_column, QHeaderView.Stretch)
    header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
    return view


def _section_title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


class ProjectPanel(QWidget):
    """Shows one project and runs its jobs through the :class:`EngineBridge`.

    Signals:
        job_row_updated(job_id): the jobs table now shows a job's latest state.
        job_finished(job_id, row): a job of this project ended and the panel shows it.
    """

    job_row_updated = Signal(int)
    job_finished = Signal(int, dict)

    def __init__(self, db: sqlite_utils.Database, bridge: EngineBridge, parent=None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self._live_job_id: int | None = None
        self._build_widgets()
        self._build_layout()
        self.jobs = controller_for(bridge)
        self.jobs.job_started.connect(self._on_job_started)
        self.jobs.job_progressed.connect(self._on_job_progressed)
        self.jobs.job_finished.connect(self._on_job_finished)

    def _build_widgets(self) -> None:
        self.title_label = QLabel()
        self.title_label.setObjectName("projectTitle")
        self.subtitle_label = QLabel()
        self.subtitle_label.setObjectName("subtitle")
        self.subtitle_label.setWordWrap(True)
        self.demo_button = QPushButton("Run demo")
        self.demo_button.setToolTip("Full demo: import, clean, select, train, compress, "
                                    "evaluate (several minutes on a CPU).")
        self.quick_demo_button = QPushButton("Run quick demo")
        self.quick_demo_button.setToolTip("A smaller demo that finishes in about a minute.")
        self.cancel_button = QPushButton("Cancel job")
        self.demo_button.clicked.connect(lambda: self.run_demo(quick=False))
        self.quick_demo_button.clicked.connect(lambda: self.run_demo(quick=True))
        self.cancel_button.clicked.connect(lambda: self.cancel_job())
        self.datasets_model = DatasetsTableModel(self)
        self.datasets_view = _table(self.datasets_model, 0)
        self.jobs_model = JobsTableModel(self)
        self.jobs_view = _table(self.jobs_model, 5)
        self.jobs_view.horizontalHeader().setSectionResizeMode(4, QHeaderView.Interactive)
        self.jobs_view.setColumnWidth(4, 180)
        self.jobs_view.setWordWrap(False)
        self.jobs_view.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressBarDelegate(self))
        self.jobs_view.horizontalHeader().setSectionResizeMode(PROGRESS_COLUMN,
                                                               QHeaderView.Fixed)
        self.jobs_view.setColumnWidth(PROGRESS_COLUMN, 140)
        self.jobs_view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.hide()
        self.results = ResultsView()

    def _build_layout(self) -> None:
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(self.title_label)
        titles.addWidget(self.subtitle_label)
        header.addLayout(titles, 1)
        for button in (self.cancel_button, self.demo_button, self.quick_demo_button):
            header.addWidget(button, 0, Qt.AlignBottom)
        jobs_box = QWidget()
        jobs_layout = QVBoxLayout(jobs_box)
        jobs_layout.setContentsMargins(0, 0, 0, 0)
        jobs_layout.addWidget(_section_title("Jobs"))
        jobs_layout.addWidget(self.jobs_view, 1)
        jobs_layout.addWidget(self.error_label)
        data_box = QWidget()
        data_layout = QVBoxLayout(data_box)
        data_layout.setContentsMargins(0, 0, 0, 0)
        data_layout.addWidget(_section_title("Datasets"))
        data_layout.addWidget(self.datasets_view, 1)
        tables = QSplitter(Qt.Horizontal)
        tables.addWidget(jobs_box)
        tables.addWidget(data_box)
        tables.setStretchFactor(0, 3)
        tables.setStretchFactor(1, 2)
        tables.setSizes([620, 400])
        results_box = QWidget()
        results_layout = QVBoxLayout(results_box)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(_section_title("Results"))
        results_layout.addWidget(self.results, 1)
        body = QSplitter(Qt.Vertical)
        body.addWidget(tables)
        body.addWidget(results_box)
        body.setStretchFactor(0, 2)
        body.setStretchFactor(1, 3)
        body.setSizes([260, 500])
        body.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(header)
        layout.addWidget(body, 1)

    # public API -------------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project (None: none); nothing of the previous one stays.

        Raises:
            ProjectError: when the project does not exist.
        """
        self.project_id = project_id
        self._live_job_id = None
        self.title_label.setText("")
        self.subtitle_label.setText("")
        self.error_label.clear()
        self.error_label.hide()
        self.datasets_model.set_datasets([])
        self.jobs_model.set_jobs([])
        self.results.clear()
        if project_id is None:
            self._update_buttons()
            return
        project = projects.get(self.db, project_id)
        demo = project.get("description") == DEMO_DESCRIPTION
        for button in (self.demo_button, self.quick_demo_button):
            button.setVisible(demo)  # the demo never runs in the user's own project
        self.title_label.setText(project["name"])
        details = [project.get("description") or "", f"task: {project.get('task')}",
                   f"created {str(project.get('created_at') or '')[:16].replace('T', ' ')}"]
        self.subtitle_label.setText("  ·  ".join(d for d in details if d))
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload the datasets and jobs tables and the results from the store."""
        if self.project_id is None:
            return
        self.datasets_model.set_datasets(datasets.list_for_project(self.db, self.project_id))
        self.jobs_model.set_jobs(jobs.list_for_project(self.db, self.project_id))
        self._update_buttons()
        if self._live_job_id is None:
            self._load_results()

    def submit(self, kind: str, params: dict | None = None) -> int:
        """Start a job of this project; returns its id."""
        if self.project_id is None:
            raise RuntimeError("No project is open.")
        return self.jobs.submit(kind, params or {}, self.project_id)

    def run_demo(self, quick: bool = True) -> int:
        """Start the demo pipeline on this project; returns the job id."""
        job_id = self.submit(DEMO_KIND, {"quick": quick})
        self._live_job_id = job_id
        self.results.clear()
        self.results.set_headline("The demo is running: the loss curve fills in as it trains.")
        return job_id

    def cancel_job(self, job_id: int | None = None) -> int | None:
        """Cancel a job: the given one, else the selected one, else the newest running one.

        Returns:
            The id of the job asked to stop, or None when nothing runs.
        """
        if job_id is None:
            job_id = self._selected_job_id()
            running = self.jobs_model.running_ids()
            if job_id not in running:
                job_id = running[0] if running else None
        if job_id is None:
            return None
        self.jobs.cancel(job_id)
        self.jobs_model.update_job(job_id, {"message": "cancelling…"})
        return job_id

    # slots ------------------------------------------------------------------

    @Slot(int, str, object)
    def _on_job_started(self, job_id: int, _kind: str, project_id: int | None) -> None:
        if project_id == self.project_id:
            self.jobs_model.set_jobs(jobs.list_for_project(self.db, self.project_id))
            self._update_buttons()
            self.job_row_updated.emit(job_id)

    @Slot(int, dict)
    def _on_job_progressed(self, job_id: int, event: dict) -> None:
        previous = self.jobs_model.job(job_id)
        if previous is None:
            return
        new_stage = previous.get("stage") != event.get("stage")
        self.jobs_model.apply_progress(job_id, event)
        if job_id == self._live_job_id and event.get("stage") == "train":
            for point in event.get("points") or [{"step": event.get("step") or 0,
                                                  **(event.get("metrics") or {})}]:
                if point.get("loss") is not None:
                    self.results.add_loss_point(point["step"], point["loss"])
        if new_stage:
            self.datasets_model.set_datasets(datasets.list_for_project(self.db,
                                                                       self.project_id))
        self.job_row_updated.emit(job_id)

    @Slot(int, dict)
    def _on_job_finished(self, job_id: int, row: dict) -> None:
        if not self.jobs_model.update_job(job_id, row):
            return
        self.datasets_model.set_datasets(datasets.list_for_project(self.db, self.project_id))
        if row.get("state") == FAILED:
            self._show_error(row)
        if job_id == self._live_job_id:
            self._live_job_id = None
        if row.get("kind") == DEMO_KIND:
            self._load_results(row.get("result") if row.get("state") == SUCCEEDED else None)
        self._update_buttons()
        self.job_row_updated.emit(job_id)
        self.job_finished.emit(job_id, row)

    def _on_selection_changed(self, *_args) -> None:
        job_id = self._selected_job_id()
        job = self.jobs_model.job(job_id) if job_id is not None else None
        if job and job.get("error") and job.get("state") == FAILED:
            self._show_error(job)
        else:
            self.error_label.hide()
        self._update_buttons()

    # helpers ----------------------------------------------------------------

    def _selected_job_id(self) -> int | None:
        rows = self.jobs_view.selectionModel().selectedRows()
        return self.jobs_model.job_at(rows[0].row())["id"] if rows else None

    def _show_error(self, job: dict) -> None:
        self.error_label.setText(f"Job {job['id']} ({job.get('kind')}) failed:\n"
                                 f"{for_window(job.get('error'))}")
        self.error_label.show()

    def _update_buttons(self) -> None:
        busy = bool(self.jobs_model.running_ids())
        for button in (self.demo_button, self.quick_demo_button):
            button.setEnabled(self.project_id is not None and not busy)
        self.cancel_button.setEnabled(busy)

    def _load_results(self, summary: dict | None = None) -> None:
        """Show the newest training run of the project (curve and summary) and a headline
        saying what the project has."""
        train_runs = [r for r in runs.list_for_project(self.db, self.project_id)
                      if r.get("kind") == "train"]
        if train_runs:
            run = train_runs[0]
            self.results.set_loss_series(runs.series(self.db, run["id"], "loss"))
            # the figure tiles come from the newest run that has them (a demo run), so a
            # later run without those figures (e.g. DPO) does not blank them
            measured = next((r for r in train_runs if "records_in" in (r.get("summary") or {})),
                            run)
            self.results.show_summary(summary or measured.get("summary") or {})
        elif summary is None:
            self.results.clear()
        else:
            self.results.show_summary(summary)
        self.results.set_headline(overview_headline(self.db, self.project_id))


def overview_headline(db: sqlite_utils.Database, project_id: int) -> str:
    """One line on what a project has so far, and the next step in the window."""
    rows = runs.list_for_project(db, project_id)
    trained = [r for r in rows if r["kind"] == "train"]
    evaluated = [r for r in rows if r["kind"] == "evaluate"]
    if not trained:
        count = len(datasets.list_for_project(db, project_id))
        if count:
            return (f"{count} dataset version{'s' * (count != 1)}, no model yet: teach one "
                    "on the Guided path.")
        return ("Nothing here yet: open the Guided path and start with Bring data (or try "
                "the demo project from the Help menu).")
    run, summary = trained[0], trained[0]["summary"]
    start, end = summary.get("loss_start"), summary.get("loss_end")
    loss = f": loss {start:.3f} → {end:.3f}" if isinstance(start, (int, float)) \
        and isinstance(end, (int, float)) else ""
    text = f"Newest training run {run['id']} ({run['name']}){loss}."
    if evaluated:
        return text + f" {len(evaluated)} evaluation(s): see the Evaluate tab."
    return text + " Evaluate it in the Evaluate tab to compare it with the base model."
