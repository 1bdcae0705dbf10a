"""Compress tab: pick a run and a method, run it as a job, compare every variant.

The form is built from :class:`engine.compress.recipe.CompressRecipe`'s field metadata by the
shared recipe form widgets (spin boxes for numbers);
only the options of the chosen method are shown. Results of every compression of the
chosen run are merged into one table and three bar charts (size, speed, quality).
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import sqlite_utils
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import paths
from engine.compress.export_seal import seal_export
from engine.compress.recipe import CompressRecipe, CompressRequestError, gguf_problem
from engine.evaluate.export_check import MemorizationRefused, require_acknowledgement
from engine.models.run_models import RunModelError
from engine.store import reads
from gui.jobs import follow_jobs
from gui.tasks import runner
from gui.widgets.compress_views import ComparisonCharts, ComparisonTable, merge_comparisons
from gui.widgets.export_folder import ExportFolderRow
from gui.widgets.export_privacy import ExportPrivacyBox
from gui.widgets.messages import for_window
from gui.widgets.recipe_form import field_widget, widget_value
from gui.widgets.run_picker import fill_run_picker
from gui.widgets.status import show_status

CLASSIFIER_COLUMNS = [("name", "Variant"), ("layers", "Layers"), ("size_mb", "Size MB"),
                      ("memory_mb", "Weights MB"), ("peak_mb", "Peak MB"), ("load_s", "Load s"),
                      ("samples_per_s", "Samples/s"), ("accuracy", "Accuracy"),
                      ("macro_f1", "Macro-F1"), ("accuracy_change", "Δ accuracy")]

# Which method a field belongs to, by the prefix of its help text; others always show.
_FIELD_METHODS = {"4-bit": "quantize-4bit", "merge:": "merge", "prune:": "prune",
                  "gguf:": "gguf", "distill:": "distill"}
SOURCE_KINDS = ("train", "compress")


def _field_method(help_text: str) -> str | None:
    return next((m for prefix, m in _FIELD_METHODS.items() if help_text.startswith(prefix)),
                None)



def _is_classifier_rows(rows: list[dict]) -> bool:
    return any(row.get("accuracy") is not None or "samples_per_s" in row for row in rows)


def _classifier_cell(key: str, value) -> str:
    if value is None:
        return "–"
    if key == "accuracy_change":
        return f"{value * 100:+.1f} pt"
    if key in ("accuracy", "macro_f1"):
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    return str(value)


class VariantTable(ComparisonTable):
    """The comparison table; classifier variants get samples/s, accuracy and macro-F1
    columns instead of tokens/s and perplexity."""

    def show_rows(self, rows: list[dict]) -> None:
        """Replace the table's rows (and its columns, by the kind of model)."""
        from gui.widgets.compress_views import COLUMNS

        columns = CLASSIFIER_COLUMNS if _is_classifier_rows(rows) else COLUMNS
        self.set_columns(columns)
        if columns is COLUMNS:
            super().show_rows(rows)
            return
        reference = next((r.get("accuracy") for r in rows if r["name"] == "tuned fp32"), None)
        self.setRowCount(len(rows))
        for index, row in enumerate(rows):
            values = {**row, "accuracy_change": row["accuracy"] - reference
                      if reference is not None and row.get("accuracy") is not None else None}
            for column, (key, _) in enumerate(columns):
                item = QTableWidgetItem(_classifier_cell(key, values.get(key)))
                if column:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.setItem(index, column, item)


class VariantCharts(ComparisonCharts):
    """Size, speed and quality charts; samples/s and accuracy for classifiers."""

    def show_rows(self, rows: list[dict]) -> None:
        """Draw the three charts for these rows."""
        if not _is_classifier_rows(rows):
            self.speed_chart.setTitle("Tokens per second", color="#374151", size="10pt")
            self.quality_chart.setTitle("Perplexity (lower is better)", color="#374151",
                                        size="10pt")
            super().show_rows(rows)
            return
        names = [r["name"] for r in rows]
        self.speed_chart.setTitle("Samples per second", color="#374151", size="10pt")
        self.quality_chart.setTitle("Held-out accuracy (higher is better)", color="#374151",
                                    size="10pt")
        self.size_chart.show_values(names, [r.get("size_mb") for r in rows])
        self.speed_chart.show_values(names, [r.get("samples_per_s") for r in rows])
        self.quality_chart.show_values(names, [r.get("accuracy") for r in rows])


class CompressPanel(QWidget):
    """Runs ``compress`` and ``export`` jobs for one project and compares the variants.

    Signals:
        sealed(path): an export was sealed into this encrypted archive.
    """

    sealed = Signal(str)

    def __init__(self, db: sqlite_utils.Database, bridge, parent=None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self._shown_run: int | None = None
        self.editors: dict[str, QWidget] = {}
        self.owners: dict[str, str | None] = {}  # the method a field belongs to, if one
        self._build_widgets()
        self._build_layout()
        self._on_method_changed(self.method_combo.currentText())
        self.job = follow_jobs(bridge, self)
        self.job.busy_widgets = [self.run_button, self.export_button]
        self.job.cancel_button, self.job.status_label = self.cancel_button, self.status_label
        self.job.describe_progress = lambda e: (f"{e['stage']}: {e['step']}/{e['total']} "
                                                f"{e['message']}")
        self.job.succeeded.connect(self._on_job_succeeded)

    def _build_widgets(self) -> None:
        self.run_combo = QComboBox()
        self.run_combo.currentIndexChanged.connect(lambda _: self._on_run_changed())
        self.form = QFormLayout()
        self.form.addRow("Run", self.run_combo)
        for item in fields(CompressRecipe):
            editor = field_widget(item, numbers="spin")
            self.owners[item.name] = _field_method(item.metadata.get("help", ""))
            self.editors[item.name] = editor
            self.form.addRow(item.name.replace("_", " ").capitalize().replace("Kl ", "KL "),
                             editor)
        self.method_combo = self.editors["method"]
        self.method_combo.currentTextChanged.connect(self._on_method_changed)
        self.run_button = QPushButton("Compress")
        self.run_button.setObjectName("primary")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.export_format = QComboBox()
        self.export_format.addItems(["safetensors", "gguf"])
        self.export_path = QLineEdit()
        self.export_path.setPlaceholderText("export folder (default: inside the project)")
        self.export_format.setAccessibleName("Export format")
        self.export_path.setAccessibleName("Export folder")
        self.export_button = QPushButton("Export run")
        self.export_folder = ExportFolderRow()
        self.export_privacy = ExportPrivacyBox(self.db)
        self._sealing: tuple[int, str] | None = None  # (run, passphrase) of the running export
        self.status_label = QLabel("Choose a run and a method.")
        self.status_label.setObjectName("subtitle")
        self.status_label.setWordWrap(True)
        self.table = VariantTable()
        self.charts = VariantCharts()
        student_layers = self.editors["student_layers"]
        student_layers.setSpecialValueText("half of the teacher's")
        self.run_button.clicked.connect(self.run_compression)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.export_button.clicked.connect(self.run_export)

    def _build_layout(self) -> None:
        side = QVBoxLayout()
        side.addLayout(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        side.addLayout(buttons)
        export = QHBoxLayout()
        export.addWidget(self.export_format)
        export.addWidget(self.export_button)
        side.addWidget(self.export_path)
        side.addWidget(self.export_privacy)
        side.addLayout(export)
        side.addWidget(self.export_folder)
        side.addWidget(self.status_label)
        side.addStretch(1)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setMinimumWidth(330)
        side_widget.setMaximumWidth(380)
        results = QVBoxLayout()
        title = QLabel("Size, speed and quality side by side")
        title.setObjectName("sectionTitle")
        results.addWidget(title)
        from engine.compress.peak_memory import MEMORY_NOTE

        memory_note = QLabel(MEMORY_NOTE)
        memory_note.setObjectName("subtitle")
        memory_note.setWordWrap(True)
        results.addWidget(memory_note)
        results.addWidget(self.table, 2)
        results.addWidget(self.charts, 3)
        layout = QHBoxLayout(self)
        layout.addWidget(side_widget)
        layout.addLayout(results, 1)

    @Slot(str)
    def _on_method_changed(self, method: str) -> None:
        for name, editor in self.editors.items():
            if name == "method":
                continue
            owner = self.owners[name]
            visible = owner is None or owner == method
            editor.setVisible(visible)
            self.form.labelForField(editor).setVisible(visible)

    def set_project(self, project_id: int | None) -> None:
        """Show another project: clear the previous one's runs, comparison and messages,
        then list this one's runs that hold a model."""
        self.project_id = project_id
        self.job.forget()
        self._shown_run = None
        self.run_combo.clear()
        self.export_path.clear()
        self.export_folder.show_path(None)
        self._set_status("Choose a run and a method.")
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload the runs that hold a model (keeping the chosen one) and the comparison."""
        fill_run_picker(self.run_combo, self.db, self.project_id, SOURCE_KINDS,
                        keep=self.selected_run())
        self._on_run_changed()

    def _on_run_changed(self) -> None:
        """Show the run's comparison; choosing a classifier run picks distillation."""
        self.show_comparison()
        run_id = self.selected_run()
        self.export_privacy.show_run(run_id)  # a check may have run since
        if run_id == self._shown_run:
            return
        self._shown_run = run_id
        if run_id is not None and self._is_classifier(run_id) and self.job_id is None:
            self.method_combo.setCurrentText("distill")
            self._set_status(f"Run {run_id} is a text classifier: distill it into a student "
                             "with fewer layers.")

    def _is_classifier(self, run_id: int) -> bool:
        from engine.compress.classifier_runs import is_classifier_source
        from engine.models.run_models import run_source

        try:
            return is_classifier_source(run_source(self.db, run_id))
        except (CompressRequestError, RunModelError):
            return False

    def selected_run(self) -> int | None:
        """The chosen run id."""
        return self.run_combo.currentData()

    def _comparison_root(self, run_id: int) -> int:
        """A compression run's comparison lives with the run it compressed."""
        row = reads.run(self.db, run_id)
        return row["summary"].get("source_run_id", run_id) if row and row["kind"] == "compress" \
            else run_id

    def show_comparison(self) -> None:
        """Fill table and charts with every variant measured for the chosen run."""
        run_id = self.selected_run()
        rows: list[dict] = []
        if run_id is not None:
            root = self._comparison_root(run_id)
            summaries = reads.compress_summaries(self.db, self.project_id)
            rows = merge_comparisons([s for s in summaries if s.get("source_run_id") == root])
        self.table.show_rows(rows)
        self.charts.show_rows(rows)

    def recipe(self) -> CompressRecipe:
        """The recipe of the form (raises CompressRequestError on a bad value)."""
        return CompressRecipe.from_dict({name: widget_value(w, None)
                                         for name, w in self.editors.items()})

    def _check_request(self, run_id: int, recipe: CompressRecipe) -> None:
        """The checks that need no model library: classifier requests, GGUF support.

        Raises:
            CompressRequestError: saying what is wrong.
        """
        from engine.compress.classifier_runs import check_classifier_request, is_classifier_source
        from engine.models.run_models import run_source

        source = run_source(self.db, run_id)
        if is_classifier_source(source):
            check_classifier_request(self.db, source, recipe)
            return
        folder = source.model or source.base
        problem = gguf_problem(folder) if recipe.method == "gguf" and folder else None
        if problem:
            raise CompressRequestError(f"gguf export cannot run: {problem}")

    def run_compression(self) -> int | None:
        """Check the form and start a ``compress`` job; returns its id."""
        run_id = self.selected_run()
        try:
            if run_id is None:
                raise CompressRequestError("No run with a model in this project yet; "
                                           "train one first.")
            recipe = self.recipe()
            self._check_request(run_id, recipe)
        except (CompressRequestError, RunModelError) as exc:
            self._set_status(for_window(str(exc)), error=True)
            return None
        params = {"run_id": run_id, "recipe": recipe.to_dict()}
        return self._start("compress", params, f"Compressing run {run_id} ({recipe.method})")

    def run_export(self) -> int | None:
        """Start an ``export`` job for the chosen run; returns its id. A model the
        memorization check flagged needs the acknowledgement (audited); a sealed export
        needs its archive passphrase."""
        run_id, fmt = self.selected_run(), self.export_format.currentText()
        if run_id is None or self.project_id is None:
            self._set_status("No run to export.", error=True)
            return None
        problem = self.export_privacy.problem()
        if problem:
            self._set_status(problem, error=True)
            return None
        try:
            require_acknowledgement(self.db, run_id, self.export_privacy.acknowledged())
        except MemorizationRefused as exc:  # checked again since the box was filled
            self.export_privacy.show_run(run_id)
            self._set_status(for_window(str(exc)), error=True)
            return None
        out = self.export_path.text().strip() or str(
            paths.project_dir(self.project_id) / "exports" / f"run-{run_id}-{fmt}")
        params = {"run_id": run_id, "format": fmt, "out": out,
                  "dtype": widget_value(self.editors["dtype"], None),
                  "gguf_type": widget_value(self.editors["gguf_type"], None)}
        phrase = self.export_privacy.take_passphrase()
        self._sealing = (run_id, phrase) if phrase else None
        self.export_privacy.acknowledge_box.setChecked(False)  # each export asks again
        return self._start("export", params, f"Exporting run {run_id} as {fmt} to {out}")

    def _start(self, kind: str, params: dict, message: str) -> int:
        what = "Compression" if kind == "compress" else "Export"
        return self.job.start(kind, params, self.project_id, what, message)

    @property
    def job_id(self) -> int | None:
        """The compression or export job this panel follows (None when none runs)."""
        return self.job.job_id

    def cancel_job(self) -> None:
        """Ask the running job to stop."""
        self.job.cancel()

    def _set_status(self, text: str, error: bool = False) -> None:
        show_status(self.status_label, text, error)

    @Slot(dict)
    def _on_job_succeeded(self, result: dict) -> None:
        if "variants" in result:
            self._set_status(f"Done: {result['label']} saved as run {result['run_id']}.")
        elif self._sealing is not None:
            self._seal(result)
        else:
            self._set_status(f"Exported to {result.get('path')} ({result.get('files')} files, "
                             f"checksums {'verified' if result.get('verified') else 'FAILED'}).")
            self.export_folder.show_path(result.get("path"))
        self.refresh()

    def _seal(self, result: dict) -> None:
        """Seal the finished export off the main thread (scrypt and AES over the model)."""
        (run_id, phrase), self._sealing = self._sealing, None
        folder = result.get("path")
        self.export_button.setEnabled(False)
        self._set_status(f"Exported ({result.get('files')} files, checksums "
                         f"{'verified' if result.get('verified') else 'FAILED'}); now sealing "
                         "it as an encrypted archive…")
        runner().run_with_store(self.db, lambda db: seal_export(db, run_id, folder, phrase),
                                self._on_sealed, self._on_seal_failed)

    def _on_sealed(self, archive) -> None:
        self.export_button.setEnabled(True)
        self._set_status(f"Sealed: {Path(archive).name} (path above) is one encrypted file "
                         "that opens only with its passphrase (enclave export-open). The "
                         "plain folder was removed.")
        self.export_folder.show_path(str(archive))
        self.sealed.emit(str(archive))

    def _on_seal_failed(self, exc: Exception) -> None:
        self.export_button.setEnabled(True)
        self._set_status(f"The export was written but not sealed: {for_window(str(exc))}",
                         error=True)
