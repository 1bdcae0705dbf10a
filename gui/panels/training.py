"""Training of a project's model: recipe form, memory estimate, live curves, runs table.

The form is built from :class:`engine.train.recipe.TrainRecipe`'s fields (their help text is
shown under each field and as its tooltip). Start submits a ``train`` job; its progress
events draw loss, eval loss, learning rate and tokens/s, and give the ETA. Cancel keeps the
run's checkpoints, so Resume continues it from the newest complete one.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields

import pyqtgraph as pg
import sqlite_utils
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QScrollArea, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from engine.store import datasets, runs
from engine.train.recipe import DEFAULT_LEARNING_RATE, TrainRecipe

CURVES = {"loss": "#2563eb", "eval_loss": "#dc2626", "lr": "#7c3aed", "tokens_per_s": "#15803d"}
RUN_COLUMNS = ["run", "name", "method", "lr", "batch", "steps", "loss end", "eval loss",
               "tokens/s"]


def _field_widget(item) -> QWidget:
    default = item.default if item.default is not MISSING else ""
    choices = item.metadata.get("choices")
    if choices:
        widget = QComboBox()
        widget.addItems(list(choices))
        widget.setCurrentText(str(default))
    elif isinstance(default, bool):
        widget = QCheckBox()
        widget.setChecked(default)
    else:
        widget = QLineEdit(str(default))
    widget.setToolTip(item.metadata.get("help", ""))
    return widget


def _widget_value(widget: QWidget, default: object) -> object:
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    text = widget.text().strip()
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    return text


class TrainingPanel(QWidget):
    """Starts, follows, cancels and resumes training runs of one project.

    Signals:
        run_started(job_id): a training job was submitted from this panel.
    """

    run_started = Signal(int)

    def __init__(self, db: sqlite_utils.Database, bridge, parent=None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self.job_id: int | None = None
        self.points: dict[str, list[tuple[int, float]]] = {name: [] for name in CURVES}
        self._build_form()
        self._build_right()
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.form_area)
        splitter.addWidget(self.right)
        splitter.setSizes([430, 850])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        if bridge is not None:
            bridge.job_progressed.connect(self._on_job_progressed)
            bridge.job_finished.connect(self._on_job_finished)

    def _build_form(self) -> None:
        form = QFormLayout()
        self.base_combo = QComboBox()
        self.base_combo.setEditable(True)
        self.base_combo.addItems(["smollm2", "minilm"])
        self.base_combo.setToolTip("Bundled model name, or the folder of a local model.")
        self.dataset_combo = QComboBox()
        form.addRow("base model", self.base_combo)
        form.addRow("dataset", self.dataset_combo)
        self.inputs: dict[str, QWidget] = {}
        for item in fields(TrainRecipe):
            widget = _field_widget(item)
            self.inputs[item.name] = widget
            hint = QLabel(item.metadata.get("help", ""))
            hint.setWordWrap(True)
            hint.setStyleSheet("color:#64748b; font-size:11px;")
            box = QVBoxLayout()
            box.setSpacing(1)
            box.addWidget(widget)
            box.addWidget(hint)
            form.addRow(item.name.replace("_", " "), box)
        self.inputs["method"].currentTextChanged.connect(self._on_method_changed)
        holder = QWidget()
        holder.setLayout(form)
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
        for button in (self.estimate_button, self.start_button, self.cancel_button,
                       self.resume_button):
            buttons.addWidget(button)
        self.estimate_label = QLabel("Memory estimate: press Estimate memory.")
        self.estimate_label.setWordWrap(True)
        self.status_label = QLabel("No training running.")
        self.status_label.setWordWrap(True)
        self.plots, self.lines = {}, {}
        grid = QHBoxLayout()
        for title, names in (("loss", ("loss", "eval_loss")), ("learning rate", ("lr",)),
                             ("tokens / s", ("tokens_per_s",))):
            plot = pg.PlotWidget(title=title)
            plot.setBackground("w")
            plot.addLegend(offset=(-10, 10)) if len(names) > 1 else None
            for name in names:
                symbol = "o" if name == "eval_loss" else None
                self.lines[name] = plot.plot([], [], name=name.replace("_", " "), symbol=symbol,
                                             symbolSize=6, pen=pg.mkPen(CURVES[name], width=2),
                                             symbolBrush=CURVES[name])
            plot.setLabel("bottom", "step")
            grid.addWidget(plot)
        self.runs_table = QTableWidget(0, len(RUN_COLUMNS))
        self.runs_table.setHorizontalHeaderLabels(RUN_COLUMNS)
        header = self.runs_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        self.runs_table.verticalHeader().setVisible(False)
        self.runs_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.runs_table.setSelectionBehavior(QTableWidget.SelectRows)
        self.runs_table.itemSelectionChanged.connect(self._on_run_selected)
        self.right = QWidget()
        layout = QVBoxLayout(self.right)
        layout.addLayout(buttons)
        layout.addWidget(self.estimate_label)
        layout.addWidget(self.status_label)
        layout.addLayout(grid, 3)
        layout.addWidget(QLabel("Runs (select one to see its curves, or to resume it)"))
        layout.addWidget(self.runs_table, 2)

    # --- project and recipe -------------------------------------------------------------

    def open_project(self, project_id: int) -> None:
        """Show the datasets and training runs of a project."""
        self.project_id = project_id
        self.dataset_combo.clear()
        for row in reversed(datasets.list_for_project(self.db, project_id)):
            self.dataset_combo.addItem(f"{row['name']} v{row['version']} ({row['record_count']})",
                                       row["id"])
        self.refresh_runs()

    def recipe(self) -> TrainRecipe:
        """The recipe in the form. Raises ValueError naming the bad field."""
        values = {}
        for item in fields(TrainRecipe):
            try:
                values[item.name] = _widget_value(self.inputs[item.name], item.default)
            except ValueError as exc:
                raise ValueError(f"{item.name}: {exc}") from exc
        return TrainRecipe.from_dict(values, where="recipe")

    @Slot(str)
    def _on_method_changed(self, method: str) -> None:
        self.inputs["learning_rate"].setText(str(DEFAULT_LEARNING_RATE.get(method, 2e-4)))

    def _base_folder(self):
        from pathlib import Path

        from engine.models import bundled

        base = self.base_combo.currentText().strip()
        if base == "smollm2":
            return bundled.smollm2_cache_folder()
        return bundled.minilm_folder() if base == "minilm" else Path(base)

    @Slot()
    def update_estimate(self) -> None:
        """Estimate peak memory of the form's recipe on this machine (reads headers only)."""
        from engine.models.device import detect
        from engine.train.memory_estimate import estimate

        try:
            guess = estimate(self._base_folder(), self.recipe(), detect())
        except (ValueError, OSError) as exc:
            self.estimate_label.setText(f"Cannot estimate: {exc}")
            return
        verdict = "fits" if guess.fits else "does NOT fit"
        tips = f" Try: {'; '.join(guess.suggestions)}." if guess.suggestions else ""
        self.estimate_label.setText(f"Memory estimate ({verdict}): {guess.summary()}.{tips}")

    # --- jobs ---------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Submit a training job with the form's recipe."""
        if self.project_id is None or self.bridge is None:
            return
        try:
            recipe = self.recipe()
        except ValueError as exc:
            self.status_label.setText(f"Recipe error: {exc}")
            return
        params = {"base": self.base_combo.currentText().strip(),
                  "dataset": self.dataset_combo.currentData(), "recipe": recipe.to_dict()}
        self._follow(self.bridge.submit("train", params, self.project_id))

    @Slot()
    def resume_selected(self) -> None:
        """Resume the selected run from its newest complete checkpoint."""
        run_id = self._selected_run()
        if run_id is not None and self.bridge is not None:
            self._follow(self.bridge.submit("train", {"run_id": run_id}, self.project_id))

    @Slot()
    def cancel(self) -> None:
        """Ask the running training job to stop (its checkpoints are kept)."""
        if self.job_id is not None:
            self.bridge.cancel(self.job_id)
            self.status_label.setText("Cancelling… checkpoints are kept for Resume.")

    def _follow(self, job_id: int) -> None:
        self.job_id = job_id
        self.points = {name: [] for name in CURVES}
        self._redraw()
        self.cancel_button.setEnabled(True)
        self.start_button.setEnabled(False)
        self.status_label.setText(f"Training job {job_id} starting…")
        self.run_started.emit(job_id)

    @Slot(int, dict)
    def _on_job_progressed(self, job_id: int, event: dict) -> None:
        if job_id != self.job_id:
            return
        metrics = event.get("metrics", {})
        for name in CURVES:
            if name in metrics:
                self.points[name].append((event["step"], float(metrics[name])))
        self._redraw()
        eta = metrics.get("eta_s")
        eta_text = f", about {eta / 60:.1f} min left" if eta is not None else ""
        loss = f", loss {metrics['loss']:.4f}" if "loss" in metrics else ""
        self.status_label.setText(f"Step {event['step']}/{event['total']}{loss}{eta_text}. "
                                  f"{event.get('message', '')}")

    @Slot(int, dict)
    def _on_job_finished(self, job_id: int, row: dict) -> None:
        if job_id != self.job_id:
            return
        self.cancel_button.setEnabled(False)
        self.start_button.setEnabled(True)
        state, error = row.get("state"), row.get("error") or ""
        self.status_label.setText(f"Training job {job_id} {state}. {error}".strip())
        self.refresh_runs()

    def _redraw(self) -> None:
        for name, line in self.lines.items():
            points = self.points.get(name, [])
            line.setData([p[0] for p in points], [p[1] for p in points])

    # --- runs table ---------------------------------------------------------------------

    def refresh_runs(self) -> None:
        """Fill the runs table with the project's training runs, newest first."""
        rows = [r for r in runs.list_for_project(self.db, self.project_id)
                if r["kind"] == "train"] if self.project_id is not None else []
        self.runs_table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            train = json.loads(row["recipe"] or "{}").get("train", {})
            summary = row["summary"]
            cells = [row["id"], row["name"], train.get("method", "lora"),
                     train.get("learning_rate", ""), train.get("batch_size", ""),
                     summary.get("steps", summary.get("train_steps", "")),
                     summary.get("loss_end", ""), summary.get("eval_loss", ""),
                     summary.get("tokens_per_s", "")]
            for column, value in enumerate(cells):
                text = f"{value:.4g}" if isinstance(value, float) else str(value or "–")
                self.runs_table.setItem(index, column, QTableWidgetItem(text))

    def _selected_run(self) -> int | None:
        selected = self.runs_table.selectedItems()
        return int(self.runs_table.item(selected[0].row(), 0).text()) if selected else None

    @Slot()
    def _on_run_selected(self) -> None:
        run_id = self._selected_run()
        if run_id is None or self.job_id is not None and self.cancel_button.isEnabled():
            return
        self.points = {name: runs.series(self.db, run_id, name) for name in CURVES}
        self._redraw()
