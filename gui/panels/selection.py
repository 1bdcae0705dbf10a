"""Selection tab: pick a coreset (method, budget, seed), run it as a job, see how it covers.

Shows the 2-D map of all samples with the selected ones ringed and clusters
coloured, coverage numbers, label shares of subset vs all, and the selected rows.
"""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.data.privacy import redact_records
from engine.select.methods import RECIPE_METHODS
from engine.select.recipe import RecipeError, SelectionRecipe
from engine.store import datasets, reads
from gui import tasks
from gui.jobs import follow_jobs
from gui.widgets.messages import for_window
from gui.widgets.selection_charts import LabelSharePlot, SelectionMapPlot
from gui.widgets.status import show_status
from gui.widgets.text_table import TextTableModel, text_table_view

JOB_KIND = "select"
MAP_KIND = "selection-map"  # engine.select.job.MAP_KIND, without importing numpy-heavy code
COVERAGE_ROWS = [("kcenter_radius", "k-center radius", "farthest any sample is from the subset"),
                 ("clusters_hit", "Reference groups with a pick",
                  "groups from a separate k-means of all samples that hold at least one pick"),
                 ("quantisation_error", "Quantisation error",
                  "mean squared distance of all samples to their nearest pick"),
                 ("mean_distance", "Mean distance", "mean distance to the nearest pick")]
TABLE_ROWS = 500


def _groups_text(share: float, groups: int | None) -> str:
    """``3 of 5`` from the share of reference groups holding a pick."""
    return f"{share:.0%}" if not groups else f"{round(share * groups)} of {groups}"


class SelectionPanel(QWidget):
    """Runs ``select`` jobs for one project and shows the newest selection.

    Signals:
        selection_shown(dataset_id): a selection is now on screen.
    """

    selection_shown = Signal(int)

    def __init__(self, db: sqlite_utils.Database, bridge, parent=None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self.shown_id: int | None = None
        self._build_form()
        self._build_results()
        self._build_layout()
        self.job = follow_jobs(bridge, self)
        self.job.busy_widgets, self.job.cancel_button = [self.run_button], self.cancel_button
        self.job.status_label = self.status_label
        self.job.succeeded.connect(self._on_job_succeeded)

    def _build_form(self) -> None:
        self.dataset_combo = QComboBox()
        self.method_combo = QComboBox()
        self.method_combo.addItems(RECIPE_METHODS)
        self.budget_edit = QLineEdit("5%")
        self.budget_edit.setToolTip("A count (200) or a percentage (5%, down to 0.5%)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 1_000_000)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(0, 100_000)
        self.k_spin.setSpecialValueText("auto")
        self.allocation_combo = QComboBox()
        self.allocation_combo.addItems(["proportional", "equal"])
        self.allocation_combo.setToolTip("How the budget is shared among clusters")
        self.dedup_spin = QDoubleSpinBox()
        self.dedup_spin.setRange(0.0, 1.0)
        self.dedup_spin.setSingleStep(0.01)
        self.dedup_spin.setDecimals(2)
        self.dedup_spin.setSpecialValueText("off")
        self.dedup_spin.setToolTip("Drop near duplicates at or above this cosine similarity first")
        self.run_button = QPushButton("Select")
        self.run_button.setObjectName("primary")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.status_label = QLabel("Choose a method and a budget.")
        self.status_label.setObjectName("subtitle")
        self.status_label.setWordWrap(True)
        self.run_button.clicked.connect(self.run_selection)
        self.cancel_button.clicked.connect(self.cancel_selection)

    def _build_results(self) -> None:
        self.map_plot = SelectionMapPlot()
        self.label_plot = LabelSharePlot()
        self.coverage_labels: dict[str, QLabel] = {}
        self.coverage_grid = QGridLayout()
        for row, (key, title, tip) in enumerate(COVERAGE_ROWS):
            name = QLabel(title)
            name.setToolTip(tip)
            value = QLabel("—")
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.coverage_grid.addWidget(name, row, 0)
            self.coverage_grid.addWidget(value, row, 1)
            self.coverage_labels[key] = value
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.table_model = TextTableModel(["Row", "Label", "Text"], self)
        self.table = text_table_view(self.table_model, stretch_column=2)

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.addRow("Dataset", self.dataset_combo)
        form.addRow("Method", self.method_combo)
        form.addRow("Budget", self.budget_edit)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Clusters (k)", self.k_spin)
        form.addRow("Allocation", self.allocation_combo)
        form.addRow("De-duplicate", self.dedup_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.run_button)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addLayout(buttons)
        side.addWidget(self.status_label)
        side.addWidget(_title("Coverage"))
        side.addWidget(self.summary_label)
        side.addLayout(self.coverage_grid)
        side_box = QWidget()
        side_box.setLayout(side)
        side.addStretch(1)
        side_box.setMinimumWidth(300)
        self.label_plot.setMinimumWidth(300)
        top = QSplitter(Qt.Horizontal)
        top.addWidget(side_box)
        top.addWidget(self.map_plot)
        top.addWidget(self.label_plot)
        top.setStretchFactor(1, 1)
        top.setSizes([330, 620, 330])
        body = QSplitter(Qt.Vertical)
        body.addWidget(top)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(_title("Selected samples"))
        table_layout.addWidget(self.table)
        body.addWidget(table_box)
        body.setSizes([520, 220])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(body)

    # ----- project and selection data -------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project: clear everything of the previous one, then load."""
        self.project_id = project_id
        self.job.forget()
        self.dataset_combo.clear()
        self._set_status("Choose a method and a budget.")
        self._clear_results()
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload the datasets a selection may start from; show the newest selection."""
        if self.project_id is None:
            return
        self._fill_datasets()
        selections = [r for r in datasets.list_for_project(self.db, self.project_id)
                      if r["kind"] == "selection"]
        if selections and selections[-1]["id"] != self.shown_id:
            self.show_selection(selections[-1]["id"])

    def _fill_datasets(self) -> None:
        """Newest first; the first is the engine's default. Keeps the user's choice."""
        from engine.select.job import selectable_datasets

        keep = self.dataset_combo.currentData()
        self.dataset_combo.clear()
        for row in selectable_datasets(self.db, self.project_id):
            self.dataset_combo.addItem(f"{row['name']} v{row['version']} · {row['role']} · "
                                       f"{row['record_count']:,} records", row["id"])
        if keep is not None and self.dataset_combo.findData(keep) >= 0:
            self.dataset_combo.setCurrentIndex(self.dataset_combo.findData(keep))

    def show_selection(self, dataset_id: int) -> None:
        """Put a stored selection (dataset version of kind 'selection') on screen.

        Its figures show at once; its rows and map are read (and redacted) on the task
        runner, and :attr:`selection_shown` tells when they are on screen too."""
        row = datasets.get(self.db, dataset_id)
        self.shown_id = dataset_id
        recipe = reads.dataset_recipe(self.db, dataset_id)
        metrics = recipe.get("metrics", {})
        for key, label in self.coverage_labels.items():
            value = metrics.get(key)
            label.setText("—" if value is None else
                          _groups_text(value, metrics.get("reference_clusters"))
                          if key == "clusters_hit" else f"{value:.3f}")
        self.summary_label.setText(
            f"{row['name']} v{row['version']}: {row['record_count']} of "
            f"{recipe.get('parent_rows', '?')} rows by {_method_text(recipe)} "
            f"(budget {recipe.get('budget')}, seed {recipe.get('seed')}, "
            f"{recipe.get('embedding_model')})")
        self.label_plot.show_shares(metrics.get("labels"))
        project_id, map_path = self.project_id, self._map_path(dataset_id)
        positions = recipe.get("parent_positions", [])
        tasks.runner().run_with_store(
            self.db, lambda db: _selection_view(db, project_id, dataset_id, map_path, positions),
            lambda view: self._show_view(project_id, dataset_id, view), owner=self)

    def _show_view(self, project_id: int | None, dataset_id: int, view: dict) -> None:
        """Main thread: the rows and map read for ``dataset_id``, unless another project or
        selection was put on screen meanwhile."""
        if (project_id, dataset_id) != (self.project_id, self.shown_id):
            return  # the window shows another project or selection now
        if view["map"] is not None:
            self.map_plot.show_map(*view["map"])
        else:
            self.map_plot.clear_map()
        self.table_model.set_rows(view["rows"])
        self.selection_shown.emit(dataset_id)

    def _map_path(self, dataset_id: int) -> str | None:
        return reads.artifact_path(self.db, self.project_id, MAP_KIND, dataset_id=dataset_id)

    def _clear_results(self) -> None:
        self.shown_id = None
        self.map_plot.clear_map()
        self.label_plot.show_shares(None)
        self.table_model.set_rows([])
        self.summary_label.setText("No selection yet.")
        for label in self.coverage_labels.values():
            label.setText("—")

    # ----- jobs ----------------------------------------------------------------------

    def recipe(self) -> SelectionRecipe:
        """The recipe the form describes (raises RecipeError naming the field)."""
        return SelectionRecipe(method=self.method_combo.currentText(),
                               budget=self.budget_edit.text(), seed=self.seed_spin.value(),
                               k=self.k_spin.value() or None,
                               allocation=self.allocation_combo.currentText(),
                               dedup=self.dedup_spin.value())

    def run_selection(self) -> int | None:
        """Submit a ``select`` job from the form; returns its id (None on a form error)."""
        if self.project_id is None:
            return None
        try:
            recipe = self.recipe()
        except RecipeError as exc:
            self._set_status(f"Check the form: {for_window(str(exc))}", error=True)
            return None
        dataset_id = self.dataset_combo.currentData()
        if dataset_id is None:
            self._set_status("This project has no data to select from yet: import a file in "
                             "the Data tab first.", error=True)
            return None
        params = {"recipe": recipe.to_dict(), "dataset_id": dataset_id}
        return self.job.start(JOB_KIND, params, self.project_id, "Selection",
                              f"Selecting with {recipe.method}…")

    @property
    def job_id(self) -> int | None:
        """The selection job this panel follows (None when none runs)."""
        return self.job.job_id

    def cancel_selection(self) -> None:
        self.job.cancel()

    def _set_status(self, text: str, error: bool = False) -> None:
        show_status(self.status_label, text, error)

    @Slot(dict)
    def _on_job_succeeded(self, result: dict) -> None:
        self._set_status(f"Done in {result.get('seconds')} s: {result.get('embedded')} embedded, "
                         f"{result.get('cached')} from the cache.")
        self.show_selection(result["dataset_id"])


def _selection_view(db: sqlite_utils.Database, project_id: int | None, dataset_id: int,
                    map_path: str | None, positions: list[int]) -> dict:
    """Runs on the task runner: a selection's map (coords, clusters, selected) and its first
    :data:`TABLE_ROWS` rows as table cells, redacted as the project shows them."""
    from engine.select.job import load_map

    saved = load_map(map_path) if map_path is not None else None
    records = redact_records(db, project_id, datasets.records(db, dataset_id)[:TABLE_ROWS])
    rows = []
    for index, record in enumerate(records):
        text = record.get("text") or \
            f"{record.get('prompt', '')} → {record.get('response', '')}"
        rows.append((str(positions[index] if index < len(positions) else index),
                     str(record.get("label", "")), " ".join(str(text).split())[:300]))
    return {"map": None if saved is None else (saved["coords"], saved["clusters"],
                                               saved["selected"]),
            "rows": rows}


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


def _method_text(recipe: dict) -> str:
    """``auto (spread-kmeans)`` for an automatic choice, else the method's name."""
    used = recipe.get("method_used")
    method = recipe.get("method")
    return f"{method} ({used})" if used and used != method else str(method)
