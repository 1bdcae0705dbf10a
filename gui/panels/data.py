"""Data tab: import a file with a mapping the user can change, clean it, see what happened.

Left: the file, task and format, a mapping row per task field and the first
rows of the file; the import runs as a ``data.import`` job. Middle: the cleaning
recipe form (built from the recipe's fields) run as a ``data.clean`` job. Right:
counts per step, the length histogram, near-duplicate clusters (which record was
kept), the quarantine and the redactions, from the newest clean run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import sqlite_utils
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.data.clean_recipe import CleanRecipe
from engine.data.cleaner import STEP_NAMES
from engine.data.formats import CONTAINERS
from engine.data.mapping import OPTIONAL_FIELDS, MappingError, check_mapping, column_heading
from engine.data.privacy import display_redactor
from engine.data.records import TASK_FIELDS, DataFormatError
from engine.data.report import STEP_TITLES
from engine.store import projects, reads, runs
from gui.jobs import follow_jobs
from gui.widgets.data_views import LengthHistogramPlot, RecipeForm, fill_table, read_only_table
from gui.widgets.messages import file_problem, for_window, read_problem
from gui.widgets.purge_box import PurgeBox
from gui.widgets.redaction_policy import RedactionPolicyBox
from gui.widgets.status import show_status

FORMATS = ["(detect)", *CONTAINERS, "alpaca", "sharegpt", "chat"]
UNMAPPED = "(none)"
HEADER_CHOICES = {"(detect)": None, "first row names the columns": True,
                  "no header row (columns numbered)": False}
QUARANTINE_ROWS = 500
# What reading a file the user chose may raise: unreadable, binary, broken, not that format.
READ_ERRORS = (DataFormatError, OSError, UnicodeError, ValueError, csv.Error)


class DataPanel(QWidget):
    """Import and cleaning for one project.

    Signals:
        report_shown(run_id): a clean run's report is on screen.
        import_done(dataset_id): an import finished and its quarantine is shown.
    """

    report_shown = Signal(int)
    import_done = Signal(int)

    def __init__(self, db: sqlite_utils.Database, bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self.preview = None
        self._previewed: tuple | None = None
        self.mapping_combos: dict[str, QComboBox] = {}
        body = QSplitter(Qt.Horizontal)
        body.addWidget(self._build_import())
        body.addWidget(self._build_clean())
        body.addWidget(self._build_results())
        body.setSizes([380, 320, 580])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(body)
        self.job = follow_jobs(bridge, self)
        self.job.busy_widgets = [self.import_button, self.clean_button]
        self.job.cancel_button, self.job.status_label = self.cancel_button, self.status_label
        self.job.finished.connect(self._on_job_finished)

    # ----- building -----------------------------------------------------------------

    def _build_import(self) -> QWidget:
        box = QGroupBox("Import")
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("CSV/TSV, Excel, JSONL, JSON, Parquet, text file, or a "
                                          "folder of .txt/.md/.docx/.pdf documents")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder = QPushButton("Folder…")
        folder.setToolTip("A folder of .txt, .md, .docx and .pdf documents: one record each; "
                          "a sub-folder's name is the label")
        folder.clicked.connect(self._browse_folder)
        self.task_combo = QComboBox()
        self.task_combo.addItems(list(TASK_FIELDS))
        self.format_combo = QComboBox()
        self.format_combo.addItems(FORMATS)
        self.header_combo = QComboBox()
        self.header_combo.addItems(list(HEADER_CHOICES))
        self.sheet_edit = QLineEdit()
        self.sheet_edit.setPlaceholderText("first sheet (Excel only)")
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.show_preview)
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("primary")
        self.import_button.clicked.connect(self.run_import)
        self.mapping_form = QFormLayout()
        self.preview_table = read_only_table(["(preview)"])
        self.preview_table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.preview_table.horizontalHeader().setDefaultSectionSize(150)
        self.preview_table.horizontalHeader().setStretchLastSection(True)
        row = QHBoxLayout()
        row.addWidget(self.path_edit)
        row.addWidget(browse)
        row.addWidget(folder)
        form = QFormLayout()
        form.addRow("File", row)
        form.addRow("Task", self.task_combo)
        form.addRow("Format", self.format_combo)
        form.addRow("Header row", self.header_combo)
        form.addRow("Sheet", self.sheet_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(box)
        layout.addLayout(form)
        layout.addWidget(QLabel("Mapping (task field ← column)"))
        layout.addLayout(self.mapping_form)
        layout.addLayout(buttons)
        self.preview_note = QLabel("")  # "no header found: columns are numbered"
        self.preview_note.setObjectName("subtitle")
        layout.addWidget(self.preview_note)
        layout.addWidget(self.preview_table, 1)
        return box

    def _build_clean(self) -> QWidget:
        box = QGroupBox("Cleaning recipe")
        self.recipe_form = RecipeForm(CleanRecipe)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.recipe_form)
        self.clean_button = QPushButton("Run cleaning")
        self.clean_button.setObjectName("primary")
        self.clean_button.clicked.connect(self.run_clean)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel)
        self.status_label = QLabel("Import a file, then run the cleaning recipe.")
        self.status_label.setWordWrap(True)
        self.status_label.setObjectName("subtitle")
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.clean_button)
        self.policy_box = RedactionPolicyBox(self.db)
        layout = QVBoxLayout(box)
        layout.addWidget(self.policy_box)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        self.purge_box = PurgeBox(self.db)
        self.purge_box.purged.connect(lambda _result: self.refresh())
        layout.addWidget(self.purge_box)
        return box

    def _build_results(self) -> QWidget:
        self.summary_label = QLabel("No cleaning run yet.")
        self.summary_label.setWordWrap(True)
        self.summary_label.setMinimumHeight(40)
        self.counts_table = read_only_table(["Step", "Records"], stretch_last=False)
        self.counts_table.setMinimumWidth(300)
        self.counts_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.length_plot = LengthHistogramPlot()
        self.clusters_table = read_only_table(["Record", "Similarity", "Text"])
        self.quarantine_table = read_only_table(["Line", "Field", "Reason"])
        self.examples_table = read_only_table(["Step", "Line", "Why", "Text"])
        self.labels_table = read_only_table(["Label", "Before", "After"])
        self.tabs = QTabWidget()
        for widget, title in ((self.clusters_table, "Near duplicates"),
                              (self.quarantine_table, "Quarantine"),
                              (self.examples_table, "Examples"), (self.labels_table, "Labels")):
            self.tabs.addTab(widget, title)
        top = QHBoxLayout()
        top.addWidget(self.counts_table, 1)
        top.addWidget(self.length_plot, 1)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary_label)
        layout.addLayout(top, 2)
        layout.addWidget(self.tabs, 3)
        return box

    # ----- import -------------------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project: clear everything of the previous one (file, preview,
        mapping, report, quarantine), then load this one's task and newest report."""
        self.project_id = project_id
        self.job.forget()
        self.path_edit.clear()
        self.preview = None
        self._clear_preview()
        show_status(self.status_label, "Import a file, then run the cleaning recipe.")
        self._clear_report()
        fill_table(self.quarantine_table, [])
        self.tabs.setTabText(1, "Quarantine")
        self.policy_box.set_project(project_id)
        self.purge_box.set_project(project_id)
        if project_id is not None:
            task = projects.get(self.db, project_id).get("task") or "instruction"
            self.task_combo.setCurrentText(task)
            self.refresh()

    open_project = set_project

    def _clear_preview(self) -> None:
        while self.mapping_form.rowCount():
            self.mapping_form.removeRow(0)
        self.mapping_combos = {}
        self.preview_table.setColumnCount(1)
        self.preview_table.setHorizontalHeaderLabels(["(preview)"])
        self.preview_note.setText("")
        fill_table(self.preview_table, [])

    def _clear_report(self) -> None:
        self.summary_label.setText("No cleaning run yet.")
        for table in (self.counts_table, self.clusters_table, self.examples_table,
                      self.labels_table):
            fill_table(table, [])
        self.length_plot.show_lengths({}, "")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import data")
        if path:
            self.path_edit.setText(path)
            self.show_preview()

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Import a folder of documents")
        if path:
            self.path_edit.setText(path)
            self.show_preview()

    def _format(self) -> str | None:
        text = self.format_combo.currentText()
        return None if text == FORMATS[0] else text

    def _preview_key(self) -> tuple:
        return (self.path_edit.text().strip(), self.task_combo.currentText(), self._format(),
                HEADER_CHOICES[self.header_combo.currentText()],
                self.sheet_edit.text().strip() or None)

    def show_preview(self) -> bool:
        """Read the first rows of the file and fill the mapping; False with a message on error
        (and no preview: nothing of an earlier file stays)."""
        from engine.data.importer import preview_file

        path, task, fmt, header, sheet = self._preview_key()
        self.preview = None
        problem = file_problem(path)
        if problem is None:
            try:
                self.preview = preview_file(Path(path), task, fmt, header=header, sheet=sheet)
            except READ_ERRORS as exc:
                problem = read_problem(path, exc)
        if problem is not None:
            self._clear_preview()
            show_status(self.status_label, problem, error=True)
            return False
        self._previewed = self._preview_key()
        self._fill_mapping(self.preview)
        headings = self._headings() or ["(no columns)"]
        self.preview_table.setColumnCount(len(headings))
        self.preview_table.setHorizontalHeaderLabels(headings)
        self._show_preview_rows()
        self.preview_note.setText(self.preview.note.capitalize())
        note = f"{self.preview.note}; " if self.preview.note else ""
        show_status(self.status_label, f"{self.preview.container}, "
                    f"{self.preview.encoding or 'binary'}; {note}check the mapping, then Import.")
        return True

    def _show_preview_rows(self) -> None:
        """The preview's first rows, redacted when the project redacts."""
        shown = display_redactor(self.db, self.project_id)
        columns = self.preview.columns or ["(no columns)"]
        fill_table(self.preview_table, [[shown(_cell(row.get(c))) for c in columns]
                                        for row in self.preview.rows])

    def _headings(self) -> list[str]:
        """Column headings: "5: HISTORY OF PRESENT ILLNESS…" (the first value, shown
        redacted, when the file has no header)."""
        shown = display_redactor(self.db, self.project_id)
        first = self.preview.rows[0] if self.preview.rows else {}
        first = first if isinstance(first, dict) else {}
        return [column_heading(i, name, shown(_cell(first.get(name, ""))))
                for i, name in enumerate(self.preview.columns, start=1)]

    def _fill_mapping(self, preview) -> None:
        while self.mapping_form.rowCount():
            self.mapping_form.removeRow(0)
        self.mapping_combos = {}
        task = preview.task
        fields = list(TASK_FIELDS[task]) + list(OPTIONAL_FIELDS.get(task, ()))
        if "messages" in preview.mapping:
            fields = ["messages"]
        for name in fields:
            combo = QComboBox()
            combo.setEditable(True)  # "instruction+input" joins columns
            combo.addItem(UNMAPPED, UNMAPPED)
            for heading, column in zip(self._headings(), preview.columns):
                combo.addItem(heading, column)
            current = preview.mapping.get(name, UNMAPPED)
            found = combo.findData(current)
            if found >= 0:
                combo.setCurrentIndex(found)
            else:
                combo.setCurrentText(current)
            self.mapping_combos[name] = combo
            self.mapping_form.addRow(name, combo)

    def mapping(self) -> dict[str, str]:
        """The mapping as the user left it."""
        chosen = {name: _column(combo) for name, combo in self.mapping_combos.items()}
        return {name: column for name, column in chosen.items() if column not in ("", UNMAPPED)}

    def run_import(self) -> int | None:
        """Submit the import job; returns its id, or None with a message."""
        if self.project_id is None:
            return None
        if (self.preview is None or self._previewed != self._preview_key()) \
                and not self.show_preview():
            return None
        path, task, fmt, header, sheet = self._preview_key()
        try:
            check_mapping(self.mapping(), self.preview.columns, task, Path(path).name)
        except MappingError as exc:
            show_status(self.status_label, for_window(str(exc)), error=True)
            return None
        params = {"path": path, "task": task, "format": fmt, "mapping": self.mapping(),
                  "header": self.preview.header if header is None else header, "sheet": sheet}
        return self._submit("data.import", params, "Importing…")

    # ----- cleaning -----------------------------------------------------------------

    def run_clean(self) -> int | None:
        """Submit the cleaning job with the form's recipe; None with a message on a bad value."""
        if self.project_id is None:
            return None
        try:
            recipe = CleanRecipe.from_dict(self.recipe_form.values())
        except ValueError as exc:
            show_status(self.status_label, f"Check the cleaning recipe: {for_window(str(exc))}",
                        error=True)
            return None
        return self._submit("data.clean", {"recipe": recipe.to_dict()}, "Cleaning…")

    def _submit(self, kind: str, params: dict, message: str) -> int:
        what = "Import" if kind == "data.import" else "Cleaning"
        return self.job.start(kind, params, self.project_id, what, message)

    @property
    def job_id(self) -> int | None:
        """The job this panel follows (None when none runs)."""
        return self.job.job_id

    def _cancel(self) -> None:
        self.job.cancel()

    @Slot(dict)
    def _on_job_finished(self, row: dict) -> None:
        if row.get("state") != "succeeded":
            return
        result = row.get("result") or {}
        if row.get("kind") == "data.import" or "quarantined" in result:
            self.status_label.setText(f"Imported {result.get('records')} records, "
                                      f"{result.get('quarantined')} quarantined.")
            self.refresh()
            self.import_done.emit(int(result.get("dataset_id") or 0))
        else:
            self.status_label.setText(f"Kept {result.get('records_out')} of {result.get('records_in')}.")
            self.refresh()

    # ----- results ------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the quarantine and the newest clean run's report."""
        if self.project_id is None:
            return
        bad, total = reads.quarantine_page(self.db, self.project_id, QUARANTINE_ROWS)
        shown = display_redactor(self.db, self.project_id)
        fill_table(self.quarantine_table, [[q["line"], q["field"] or "", shown(q["reason"])]
                                           for q in bad])
        if self.preview is not None:  # a file previewed before a redacting clean
            self._show_preview_rows()
        self.tabs.setTabText(1, f"Quarantine ({total})")
        self.policy_box.set_project(self.project_id)
        self.purge_box.refresh()
        cleaned = [r for r in runs.list_for_project(self.db, self.project_id) if r["kind"] == "data.clean"]
        if cleaned:
            self.show_report(cleaned[0]["summary"])
            self.report_shown.emit(cleaned[0]["id"])
        else:
            self._clear_report()

    def show_report(self, report: dict) -> None:
        """Counts, histogram, clusters, examples and labels of one report."""
        self.summary_label.setText(
            f"{report['input']['records']:,} training records in, {report['output']['records']:,} kept "
            f"(dataset {report['output']['dataset_id']}). Identifiers: "
            + (", ".join(f"{k} {v}" for k, v in report["phi_counts"].items()) or "none") + ".")
        fill_table(self.counts_table, [[STEP_TITLES.get(s, s), f"{report['counts'].get(s, 0):,}"]
                                       for s in STEP_NAMES])
        self.length_plot.show_lengths(report["lengths"], report["length_unit"])
        rows = []
        for cluster in report["clusters"]:
            rows.append(["kept", "", cluster["kept_text"]])
            rows += [[f"  removed, line {m['line']}", m["similarity"], m["text"]] for m in cluster["removed"]]
        fill_table(self.clusters_table, rows)
        fill_table(self.examples_table, [[STEP_TITLES.get(step, step), e["line"], e["reason"], e["text"]]
                                         for step, shown in report["examples"].items() for e in shown])
        labels = report.get("labels") or {}
        fill_table(self.labels_table, [[name, n, labels.get("counts", {}).get(name, 0)]
                                       for name, n in labels.get("before", {}).items()])


def _column(combo: QComboBox) -> str:
    """The column a mapping combo names: the item's column, or what the user typed
    (columns joined with +, or a position)."""
    index = combo.currentIndex()
    if index >= 0 and combo.itemText(index) == combo.currentText():
        return combo.itemData(index)
    return combo.currentText().strip()


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) < 200 else text[:199] + "…"
