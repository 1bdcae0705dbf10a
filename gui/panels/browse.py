"""Browse tab: look through any version of the project's data, record by record.

A paged table (loaded as the user scrolls, never whole), full-text search, filters by
label, length and cleaning flag, a record view that shows what cleaning changed
(placeholders highlighted, words removed struck through), and the quarantine with the
reason each line was kept out, exportable as CSV. In a project that redacts, every text
comes through the project's redactor (see :mod:`engine.data.browse`).
"""

from __future__ import annotations

import html
from pathlib import Path

import sqlite_utils
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.data.browse import (
    PLACEHOLDER,
    RecordFilter,
    Shower,
    export_quarantine_csv,
    record_change,
    search_refusal,
)
from engine.evaluate.word_diff import diff_html
from engine.store import datasets, record_search
from gui import tasks
from gui.widgets.record_tables import QuarantineTableModel, RecordsTableModel
from gui.widgets.status import show_status

ANY_LABEL = "any label"
FLAG_NAMES = {"all": "all records", "changed": "changed by cleaning",
              "removed": "removed by cleaning", "placeholder": "with a placeholder"}
COUNT_CAP = 1000
SEARCH_DELAY_MS = 300


def _spin(tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(0, 1_000_000)
    spin.setMaximumWidth(96)
    spin.setSpecialValueText("–")
    spin.setToolTip(tip)
    return spin


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setStretchLastSection(False)
    return view


class BrowsePanel(QWidget):
    """Browse one project's dataset versions.

    Signals:
        records_shown(count): the first page of a version or filter arrived; ``count`` rows
            on screen.
        count_shown(count): the number of records that pass the filter is shown.
    """

    records_shown = Signal(int)
    count_shown = Signal(int)

    def __init__(self, db: sqlite_utils.Database, bridge=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self.shower: Shower | None = None
        self.records_model = RecordsTableModel(db, self)
        self.records_model.page_loaded.connect(self._on_page_loaded)
        self.records_model.page_failed.connect(
            lambda message: show_status(self.status_label, message, error=True))
        self.quarantine_model = QuarantineTableModel(db, self)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self._build_widgets()
        self._build_layout()

    # ----- building ---------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.version_combo = QComboBox()
        self.version_combo.setAccessibleName("Dataset version")
        self.version_combo.currentIndexChanged.connect(self._on_version_chosen)
        self.version_combo.setMinimumContentsLength(24)
        self.version_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.search_edit = QLineEdit()
        self.search_edit.setAccessibleName("Search")
        self.search_edit.setPlaceholderText("Search words…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(lambda _text: self._search_timer.start())
        self.label_combo = QComboBox()
        self.label_combo.setAccessibleName("Label")
        self.min_spin = _spin("Only records with at least this many characters of text")
        self.max_spin = _spin("Only records with at most this many characters of text")
        self.min_spin.setAccessibleName("Fewest characters")
        self.max_spin.setAccessibleName("Most characters")
        self.flag_combo = QComboBox()
        self.flag_combo.setAccessibleName("Cleaning flag")
        for key, text in record_search.FLAGS.items():
            self.flag_combo.addItem(FLAG_NAMES[key], key)
            self.flag_combo.setItemData(self.flag_combo.count() - 1, text, Qt.ToolTipRole)
        for combo in (self.label_combo, self.flag_combo):
            combo.setMinimumContentsLength(10)
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        for widget in (self.label_combo, self.flag_combo):
            widget.currentIndexChanged.connect(lambda _i: self.apply_filter())
        for spin in (self.min_spin, self.max_spin):
            spin.editingFinished.connect(self.apply_filter)
        self.count_label = QLabel()
        self.privacy_label = QLabel()
        self.privacy_label.setObjectName("subtitle")
        self.privacy_label.setWordWrap(True)
        self.records_view = _table(self.records_model)
        header = self.records_view.horizontalHeader()  # fixed widths: sizing columns to
        for column, width in enumerate((64, 56, 0, 90, 84)):  # contents reads every row
            if width:
                header.resizeSection(column, width)
        header.setSectionResizeMode(2, QHeaderView.Stretch)
        self.records_view.selectionModel().currentRowChanged.connect(self._on_record_chosen)
        self.record_view = QTextBrowser()
        self.record_view.setAccessibleName("Record")
        self.quarantine_view = _table(self.quarantine_model)
        self.quarantine_view.horizontalHeader().setSectionResizeMode(4, QHeaderView.Stretch)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.quarantine_label = QLabel()
        self.status_label = QLabel()
        self.status_label.setObjectName("subtitle")

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        for widget, stretch in ((QLabel("Version"), 0), (self.version_combo, 1),
                                (self.search_edit, 1)):
            top.addWidget(widget, stretch)
        filters = QHBoxLayout()
        for widget in (QLabel("Show"), self.label_combo, self.flag_combo):
            filters.addWidget(widget)
        filters.addStretch(1)
        records = QSplitter(Qt.Horizontal)
        records.addWidget(self.records_view)
        records.addWidget(self.record_view)
        records.setSizes([620, 380])
        quarantine = QWidget()
        column = QVBoxLayout(quarantine)
        row = QHBoxLayout()
        row.addWidget(self.quarantine_label, 1)
        row.addWidget(self.export_button)
        column.addLayout(row)
        column.addWidget(self.quarantine_view, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(records, "Records")
        self.tabs.addTab(quarantine, "Quarantine")
        self.count_label.setMinimumWidth(self.count_label.fontMetrics().horizontalAdvance(
            "1,000,000 records") + 12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addLayout(filters)
        counts = QHBoxLayout()
        for widget in (self.count_label, QLabel("Characters"), self.min_spin, QLabel("to"),
                       self.max_spin):
            counts.addWidget(widget)
        counts.addWidget(self.privacy_label, 1)
        layout.addLayout(counts)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status_label)

    # ----- project and versions ---------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project's versions (nothing of the previous one stays)."""
        self.project_id = project_id
        self.shower = Shower(self.db, project_id) if project_id is not None else None
        self.version_combo.blockSignals(True)
        self.version_combo.clear()
        self.version_combo.blockSignals(False)
        self.search_edit.blockSignals(True)
        self.search_edit.clear()
        self.search_edit.blockSignals(False)
        self.status_label.setText("")
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload the list of versions, keeping the one shown."""
        keep = self.version_combo.currentData()
        rows = datasets.list_for_project(self.db, self.project_id) if self.project_id else []
        self.shower = Shower(self.db, self.project_id) if self.project_id is not None else None
        self.version_combo.blockSignals(True)
        self.version_combo.clear()
        for row in reversed(rows):
            self.version_combo.addItem(f"{row['name']} v{row['version']} · {row['role']} · "
                                       f"{row['record_count']:,} records", row["id"])
        if keep is not None and self.version_combo.findData(keep) >= 0:
            self.version_combo.setCurrentIndex(self.version_combo.findData(keep))
        self.version_combo.blockSignals(False)
        if self.version_combo.currentData() != keep or keep is None:
            self._on_version_chosen()
        self.privacy_label.setText("This project redacts: identifiers show as placeholders "
                                   "such as [NAME], in every version." if self.shower and
                                   self.shower.redacts else "")

    def dataset_id(self) -> int | None:
        """The version shown."""
        return self.version_combo.currentData()

    def _on_version_chosen(self, *_args) -> None:
        dataset_id = self.dataset_id()
        self._fill_labels(dataset_id)
        for index in range(self.flag_combo.count()):
            usable = dataset_id is not None and record_search.flag_available(
                self.db, dataset_id, self.flag_combo.itemData(index))
            self.flag_combo.model().item(index).setEnabled(usable)
        self.flag_combo.setCurrentIndex(0)
        refusal = search_refusal(self.db, self.project_id, dataset_id) \
            if dataset_id is not None else None
        self.search_edit.setEnabled(refusal is None)
        self.search_edit.setToolTip(refusal or "Every word must occur; the last one may be "
                                               "the start of a word")
        self.quarantine_model.load(dataset_id, self.shower)
        bad = datasets.quarantine_count(self.db, dataset_id) if dataset_id is not None else 0
        self.quarantine_label.setText(f"{bad:,} line(s) kept out of this version when it was "
                                      "imported, with the reason." if bad else
                                      "No line was kept out of this version.")
        self.export_button.setEnabled(bad > 0)
        self.tabs.setTabText(1, f"Quarantine ({bad:,})")
        self.apply_filter()
        if refusal:
            show_status(self.status_label, refusal)

    def _fill_labels(self, dataset_id: int | None) -> None:
        """List the version's labels off the main thread (it reads every record)."""
        self._show_labels(dataset_id, [])
        labelled = dataset_id is not None and self._classification(dataset_id)
        self.records_view.setColumnHidden(3, not labelled)  # the Label column
        if labelled:
            tasks.runner().run_with_store(
                self.db, lambda db: record_search.labels(db, dataset_id),
                lambda found: self._show_labels(dataset_id, found))

    def _show_labels(self, dataset_id: int | None, found: list[str]) -> None:
        if dataset_id != self.dataset_id():
            return  # another version was chosen meanwhile
        self.label_combo.blockSignals(True)
        self.label_combo.clear()
        self.label_combo.addItem(ANY_LABEL, None)
        for label in found:
            self.label_combo.addItem(label, label)
        self.label_combo.setEnabled(bool(found))
        self.label_combo.blockSignals(False)

    def _classification(self, dataset_id: int) -> bool:
        first = record_search.page(self.db, dataset_id, limit=1)
        return bool(first) and "label" in first[0].data

    # ----- filtering and records --------------------------------------------------------

    def current_filter(self) -> RecordFilter:
        """The filter the controls describe."""
        text = self.search_edit.text() if self.search_edit.isEnabled() else ""
        return RecordFilter(text=text, label=self.label_combo.currentData(),
                            min_chars=self.min_spin.value() or None,
                            max_chars=self.max_spin.value() or None,
                            flag=self.flag_combo.currentData() or "all")

    @Slot()
    def apply_filter(self) -> None:
        """Load the first page of the version with the current filter."""
        self._search_timer.stop()
        dataset_id, flt = self.dataset_id(), self.current_filter()
        self.records_model.load(dataset_id, flt, self.shower)
        self.record_view.clear()
        if dataset_id is None:
            self.count_label.setText("No data yet: import a file in the Data tab.")
        elif flt.is_empty():
            self._show_count(dataset_id, flt, record_search.count(self.db, dataset_id, flt))
        else:  # counting matches may read the whole version: off the main thread
            self.count_label.setText("counting…")
            tasks.runner().run_with_store(
                self.db, lambda db: record_search.count(db, dataset_id, flt, cap=COUNT_CAP),
                lambda counted: self._show_count(dataset_id, flt, counted))

    def _on_page_loaded(self, first: bool) -> None:
        if first:
            if self.records_model.rowCount():
                self.records_view.selectRow(0)
            self.records_shown.emit(self.records_model.rowCount())

    def _show_count(self, dataset_id: int, flt: RecordFilter, counted: tuple[int, bool]) -> None:
        if (dataset_id, flt) != (self.dataset_id(), self.records_model.filter):
            return  # a newer filter is shown
        found, exact = counted
        noun = "records" if flt.is_empty() else "matches"
        self.count_label.setText(f"{found:,}{'' if exact else '+'} {noun}")
        self.count_shown.emit(found)

    def _on_record_chosen(self, current, _previous) -> None:
        row = self.records_model.record_at(current.row()) if current.isValid() else None
        if row is None or self.shower is None:
            self.record_view.clear()
            return
        change = record_change(self.db, self.shower, self.dataset_id(), row)
        self.record_view.setHtml(record_html(change, row.line))

    # ----- quarantine -------------------------------------------------------------------

    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export quarantine", "quarantine.csv",
                                              "CSV files (*.csv)")
        if path:
            self.export_quarantine(Path(path))

    def export_quarantine(self, path: Path) -> int | None:
        """Write the version's quarantine to a CSV file; returns the rows written."""
        dataset_id = self.dataset_id()
        if dataset_id is None or self.project_id is None:
            return None
        try:
            written = export_quarantine_csv(self.db, self.project_id, dataset_id, path)
        except OSError as exc:
            show_status(self.status_label, f"Could not write {path}: {exc.strerror}", error=True)
            return None
        show_status(self.status_label, f"{written:,} quarantined line(s) written to {path}.")
        return written


def _marked(text: str) -> str:
    """HTML of a text with its redaction placeholders highlighted."""
    pieces, last = [], 0
    for match in PLACEHOLDER.finditer(text):
        pieces.append(html.escape(text[last:match.start()]))
        pieces.append(f'<span style="background:#ffe8a3;font-weight:600">'
                      f'{html.escape(match.group())}</span>')
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces).replace("\n", "<br>")


def record_html(change, line: int | None) -> str:
    """The record view: fields, the text with placeholders highlighted, and what cleaning
    changed against the source record."""
    parts = [f"<p><b>Source line</b> {line if line is not None else '–'}</p>"]
    for key, value in change.fields.items():
        if key in ("prompt", "response", "system", "text", "text_pair", "messages"):
            continue
        parts.append(f"<p><b>{html.escape(str(key))}</b>: {html.escape(str(value))}</p>")
    parts.append(f"<h4>Text</h4><p>{_marked(change.after)}</p>")
    if change.placeholders:
        parts.append("<p>Redacted by cleaning: " + ", ".join(
            _marked(p) for p in change.placeholders) + "</p>")
    if change.before is None:
        return "".join(parts)
    if not change.changed:
        parts.append("<p>Cleaning left this record as it was.</p>")
    elif change.before != change.after:
        styled = diff_html(change.before, change.after).replace(
            "<ins>", '<span style="background:#c8f0c8">').replace("</ins>", "</span>").replace(
            "<del>", '<span style="text-decoration:line-through;color:#a33">').replace(
            "</del>", "</span>")
        parts.append(f"<h4>What cleaning changed</h4><p>{styled}</p>")
    else:
        parts.append("<h4>What cleaning changed</h4><p>Identifiers were replaced by the "
                     "highlighted placeholders; nothing else changed.</p>")
    return "".join(parts)
