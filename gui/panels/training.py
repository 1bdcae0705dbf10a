"""Training of a project's model: recipe form, memory estimate, live curves, runs table.

The form is built from :class:`engine.train.recipe.TrainRecipe`'s fields (their help text is
shown under each field and as its tooltip). Start submits a ``train`` job; its progress
events draw loss, eval loss, learning rate and tokens/s, and give the ETA. Cancel keeps the
run's checkpoints, so Resume continues it from the newest complete one.

Method ``dpo`` swaps the form for the DPO page (:mod:`gui.panels.training_dpo`): preference
tuning on the expert's preference pairs, submitted as a ``train.dpo`` job, with a fourth chart
of the reward accuracy and margin per step.
"""

from __future__ import annotations

from dataclasses import fields

import sqlite_utils
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.store import datasets, reads, runs
from engine.train.recipe import DEFAULT_LEARNING_RATE, METHODS, TrainRecipe
from gui import tasks
from gui.jobs import follow_jobs
from gui.panels.training_dpo import DpoOptions
from gui.widgets.messages import for_window
from gui.widgets.recipe_form import RecipeForm, field_widget, form_values, hinted, row_label
from gui.widgets.training_charts import CURVES, TrainingCharts

RUN_COLUMNS = ["run", "name", "method", "lr", "batch", "steps", "loss end", "eval loss",
               "tokens/s"]
DEVICES = (("this computer (one GPU, or the CPU)", 1), ("2 GPUs", 2), ("4 GPUs", 4),
           ("8 GPUs", 8))
DPO = "dpo"
DPO_HELP = "dpo: preference tuning (DPO) on the experts' preference pairs."


class TrainingPanel(QWidget):
    """Starts, follows, cancels and resumes training runs of one project.

    Signals:
        estimate_shown(): the memory estimate line was filled in.
    """

    estimate_shown = Signal()

    def __init__(self, db: sqlite_utils.Database, bridge, parent=None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self._build_form()
        self._build_right()
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.form_area)
        splitter.addWidget(self.right)
        splitter.setSizes([430, 850])
        splitter.setStretchFactor(1, 1)
        self.form_area.setMinimumWidth(300)  # the form keeps its inputs readable; charts give way
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.job = follow_jobs(bridge, self)
        self.job.busy_widgets, self.job.cancel_button = [self.start_button], self.cancel_button
        self.job.describe_progress = None  # the panel words its own progress line
        self.job.progressed.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)

    def _build_form(self) -> None:
        top = QFormLayout()
        self.base_combo = QComboBox()
        self.base_combo.setEditable(True)
        self.base_combo.addItems(["smollm2", "minilm"])
        self.base_combo.setToolTip("Bundled model name, or the folder of a local model.")
        method_field = next(item for item in fields(TrainRecipe) if item.name == "method")
        self.inputs: dict[str, QWidget] = {"method": field_widget(method_field)}
        self.inputs["method"].addItem(DPO)
        self.devices_combo = QComboBox()
        for text, count in DEVICES:
            self.devices_combo.addItem(text, count)
        self.devices_combo.setToolTip("Several GPUs of this workstation train one run together "
                                      "(each takes a share of every batch).")
        top.addRow(row_label("base model"), self.base_combo)
        top.addRow(row_label("devices"), self.devices_combo)
        top.addRow(row_label("method"), hinted(self.inputs["method"],
                                    f"{method_field.metadata['help']} {DPO_HELP}"))
        sft_form = QFormLayout()
        sft_form.setContentsMargins(0, 0, 0, 0)
        self.dataset_combo = QComboBox()
        sft_form.addRow(row_label("dataset"), self.dataset_combo)
        self.recipe_form = RecipeForm(TrainRecipe, skip=("method",))
        sft_form.addRow(self.recipe_form)
        self.inputs.update(self.recipe_form.inputs)
        sft_page = QWidget()
        sft_page.setLayout(sft_form)
        self.dpo_options = DpoOptions(self.db)
        self.recipe_stack = QStackedWidget()
        self.recipe_stack.addWidget(sft_page)
        self.recipe_stack.addWidget(self.dpo_options)
        self.inputs["method"].currentTextChanged.connect(self._on_method_changed)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.addLayout(top)
        column.addWidget(self.recipe_stack)
        column.addStretch(1)
        self.form_area = QScrollArea()
        self.form_area.setWidgetResizable(True)
        self.form_area.setWidget(holder)

    def _build_right(self) -> None:
        self.estimate_button = QPushButton("Estimate memory")
        self.start_button = QPushButton("Start training")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume selected run")
        self.cancel_button.setEnabled(False)
        self.estimate_button.clicked.connect(self.update_estimate)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.resume_selected)
        buttons = QHBoxLayout()
        for button in (self.estimate_button, self.start_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.estimate_label = QLabel("Memory estimate: press Estimate memory.")
        self.estimate_label.setWordWrap(True)
        self.advice_label = QLabel("")
        self.advice_label.setWordWrap(True)
        self.advice_button = QPushButton("Use the recommendation")
        self.advice_button.setToolTip("Put the recommended method and batch size in the form.")
        self.advice_button.setVisible(False)
        self.advice_button.clicked.connect(self.apply_advice)
        self.advice = None
        self.status_label = QLabel("No training running.")
        self.status_label.setWordWrap(True)
        self.charts = TrainingCharts()
        self.plots, self.lines = self.charts.plots, self.charts.lines
        self.runs_table = QTableWidget(0, len(RUN_COLUMNS))
        self.runs_table.setHorizontalHeaderLabels(RUN_COLUMNS)
        header = self.runs_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)  # sized once per fill
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        self.runs_table.verticalHeader().setVisible(False)
        self.runs_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.runs_table.setSelectionBehavior(QTableWidget.SelectRows)
        self.runs_table.itemSelectionChanged.connect(self._on_run_selected)
        self.right = QWidget()
        layout = QVBoxLayout(self.right)
        layout.addLayout(buttons)
        layout.addWidget(self.estimate_label)
        advice_row = QHBoxLayout()
        advice_row.addWidget(self.advice_label, 1)
        advice_row.addWidget(self.advice_button)
        layout.addLayout(advice_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.charts, 3)
        runs_row = QHBoxLayout()
        runs_title = QLabel("Runs (select one to see its curves, or to resume it)")
        runs_title.setWordWrap(True)
        runs_row.addWidget(runs_title, 1)
        runs_row.addWidget(self.resume_button)
        layout.addLayout(runs_row)
        layout.addWidget(self.runs_table, 2)

    # --- project and recipe -------------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project: clear the previous one's datasets, runs, curves and
        messages, then load this one's."""
        self.project_id = project_id
        self.job.forget()
        self.dataset_combo.clear()
        self.runs_table.setRowCount(0)
        self.charts.clear_series()
        self.status_label.setText("No training running.")
        self.estimate_label.setText("Memory estimate: press Estimate memory.")
        self.dpo_options.set_project(project_id)
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload datasets, DPO sources and the runs table, keeping what is chosen."""
        if self.project_id is None:
            return
        keep = self.dataset_combo.currentData()
        self.dataset_combo.clear()
        for row in datasets.learnable(self.db, self.project_id, exclude_kinds=("preferences",)):
            self.dataset_combo.addItem(f"{row['name']} v{row['version']} · {row['role']} · "
                                       f"{row['record_count']} records", row["id"])
        if keep is not None and self.dataset_combo.findData(keep) >= 0:
            self.dataset_combo.setCurrentIndex(self.dataset_combo.findData(keep))
        self.dpo_options.refresh()
        self.refresh_runs()

    def recipe(self) -> TrainRecipe:
        """The recipe in the form. Raises ValueError naming the bad field."""
        if self.is_dpo():
            raise ValueError("method dpo takes the DPO recipe (dpo_options.recipe())")
        return TrainRecipe.from_dict(form_values(self.inputs, TrainRecipe), where="recipe")

    def is_dpo(self) -> bool:
        """Whether the form is set to preference tuning (DPO)."""
        return self.inputs["method"].currentText() == DPO

    @Slot(str)
    def _on_method_changed(self, method: str) -> None:
        dpo = method == DPO
        self.recipe_stack.setCurrentIndex(1 if dpo else 0)
        self.charts.show_dpo(dpo)
        self.start_button.setText("Start DPO" if dpo else "Start training")
        if dpo:
            self.dpo_options.refresh_count()
        elif method in METHODS:
            self.inputs["learning_rate"].setText(str(DEFAULT_LEARNING_RATE.get(method, 2e-4)))

    def _base_folder(self):
        from engine.models import bundled

        return bundled.model_folder(self.base_combo.currentText().strip(), convert=False,
                                    must_exist=False)

    @Slot()
    def update_estimate(self) -> None:
        """Estimate peak memory of the form's recipe on this machine (reads headers only).

        The first estimate imports the model libraries, so it runs off the main thread;
        :attr:`estimate_shown` tells when the line is filled in."""
        try:
            recipe = self.dpo_options.recipe().as_train_recipe() if self.is_dpo() \
                else self.recipe()
            folder = self._base_folder()
        except (ValueError, OSError) as exc:
            self._show_estimate(exc)
            return
        self.estimate_label.setText("Memory estimate: measuring…")
        self.estimate_button.setEnabled(False)
        processes, advise = self.devices_combo.currentData(), not self.is_dpo()
        tasks.runner().run(lambda: _estimate(folder, recipe, processes, advise),
                           self._show_estimate, self._show_estimate)

    def _show_estimate(self, found) -> None:
        self.estimate_button.setEnabled(True)
        self.advice = None
        if isinstance(found, Exception):
            if not isinstance(found, (ValueError, OSError)):
                raise found
            self.estimate_label.setText(f"Cannot estimate: {for_window(str(found))}")
        else:
            guess, self.advice = found
            verdict = "fits" if guess.fits else "does NOT fit"
            tips = f" Try: {'; '.join(guess.suggestions)}." if guess.suggestions else ""
            per = " per GPU" if self.devices_combo.currentData() > 1 else ""
            self.estimate_label.setText(
                f"Memory estimate{per} ({verdict}): {guess.summary()}.{tips}")
        self.advice_label.setText(self.advice.summary() if self.advice else "")
        self.advice_button.setVisible(bool(self.advice and self.advice.method))
        self.estimate_shown.emit()

    @Slot()
    def apply_advice(self) -> None:
        """Put the recommended method and batch size into the form."""
        if self.advice and self.advice.method:
            self.inputs["method"].setCurrentText(self.advice.method)
            self.inputs["batch_size"].setText(str(self.advice.batch_size))

    # --- jobs ---------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Submit a training job with the form's recipe."""
        if self.project_id is None or self.bridge is None:
            return
        if self.is_dpo():
            self.start_dpo()
            return
        try:
            params = self.train_params()
        except ValueError as exc:
            self.status_label.setText(f"Check the form: {for_window(str(exc))}.")
            return
        self._follow("train", params)

    def train_params(self) -> dict:
        """The ``train`` job's params from the form (several GPUs: a launch plan).
        Raises ValueError naming the bad field."""
        params = {"base": self.base_combo.currentText().strip(),
                  "dataset": self.dataset_combo.currentData(), "recipe": self.recipe().to_dict()}
        if self.devices_combo.currentData() > 1:
            params["launch"] = {"processes": self.devices_combo.currentData()}
        return params

    def start_dpo(self) -> None:
        """Submit a ``train.dpo`` job, or say why not (bad field, too few pairs)."""
        try:
            recipe = self.dpo_options.recipe()
        except ValueError as exc:
            self.status_label.setText(f"Check the form: {for_window(str(exc))}.")
            return
        if self.dpo_options.refresh_count() < recipe.min_pairs:
            self.status_label.setText(f"Cannot start DPO: {self.dpo_options.pairs_label.text()}")
            return
        params = self.dpo_options.params(self.base_combo.currentText().strip(), recipe)
        self._follow("train.dpo", params)

    @Slot()
    def resume_selected(self) -> None:
        """Resume the selected run from its newest complete checkpoint."""
        run_id = self._selected_run()
        if run_id is not None and self._run_method(run_id) == DPO:
            self.status_label.setText(f"Run {run_id} is a DPO run: DPO runs start again "
                                      "rather than resume.")
            return
        if run_id is not None and self.bridge is not None:
            self._follow("train", {"run_id": run_id})

    @Slot()
    def cancel(self) -> None:
        """Ask the running training job to stop (its checkpoints are kept)."""
        if self.job.cancel() is not None:
            self.status_label.setText("Cancelling… checkpoints are kept for Resume.")

    @property
    def job_id(self) -> int | None:
        """The training job this panel follows (None when none runs)."""
        return self.job.job_id

    def _follow(self, kind: str, params: dict) -> None:
        self.charts.clear_series()
        job_id = self.job.start(kind, params, self.project_id, "Training")
        self.status_label.setText(f"Training job {job_id} starting…")

    @Slot(dict)
    def _on_progress(self, event: dict) -> None:
        """Every metric point since the last delivery joins the charts; the status line says
        where the run is."""
        self.charts.add_progress(event)
        metrics = event.get("metrics", {})
        eta = metrics.get("eta_s")
        eta_text = f", about {eta / 60:.1f} min left" if eta is not None else ""
        loss = f", loss {metrics['loss']:.4f}" if "loss" in metrics else ""
        if "reward_accuracy" in metrics:
            loss += (f", reward accuracy {metrics['reward_accuracy']:.2f}, margin "
                     f"{metrics.get('reward_margin', 0.0):.3f}")
        self.status_label.setText(f"Step {event['step']}/{event['total']}{loss}{eta_text}. "
                                  f"{event.get('message', '')}")

    @Slot(dict)
    def _on_finished(self, row: dict) -> None:
        state, error = row.get("state"), row.get("error") or ""
        self.status_label.setText(f"Training job {row.get('id')} {state}. "
                                  f"{for_window(error)}".strip())
        self.refresh()

    # --- runs table ---------------------------------------------------------------------

    def refresh_runs(self) -> None:
        """Fill the runs table with the project's training runs, newest first; the columns
        are sized once at the end (sized at every cell, a few dozen runs held the main
        thread for tens of milliseconds at each job's end)."""
        rows = reads.runs_of_kind(self.db, self.project_id, "train") \
            if self.project_id is not None else []
        self.runs_table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            train = row["recipe"].get("train", {})
            summary = row["summary"]
            cells = [row["id"], row["name"], train.get("method", "lora"),
                     train.get("learning_rate", ""), train.get("batch_size", ""),
                     summary.get("steps", summary.get("train_steps", "")),
                     summary.get("loss_end", ""), summary.get("eval_loss", ""),
                     summary.get("tokens_per_s", "")]
            for column, value in enumerate(cells):
                text = f"{value:.4g}" if isinstance(value, float) else str(value or "–")
                self.runs_table.setItem(index, column, QTableWidgetItem(text))
        for column in range(len(RUN_COLUMNS)):
            if column != 1:  # the name column stretches over the width left
                self.runs_table.resizeColumnToContents(column)

    def _selected_run(self) -> int | None:
        selected = self.runs_table.selectedItems()
        return int(self.runs_table.item(selected[0].row(), 0).text()) if selected else None

    @Slot()
    def _on_run_selected(self) -> None:
        run_id = self._selected_run()
        if run_id is None or self.job.running:
            return
        self.charts.show_series({name: runs.series(self.db, run_id, name) for name in CURVES})
        self.charts.show_dpo(self.is_dpo() or self._run_method(run_id) == DPO)

    def _run_method(self, run_id: int) -> str:
        return reads.train_method(self.db, run_id)


def _estimate(folder, recipe, processes: int = 1, advise: bool = True):
    """Runs on a worker thread: the memory estimate of ``recipe`` on this machine (per GPU
    when several train together) and the method and batch size recommended for it."""
    from engine.models.device import detect
    from engine.train.memory_estimate import estimate
    from engine.train.recommend import recommend

    device = detect()
    advice = recommend(folder, recipe, device, processes) if advise else None
    return estimate(folder, recipe, device, processes=processes), advice
