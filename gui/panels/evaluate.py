"""Evaluation of a project's tuned model: base vs tuned metrics, side-by-side answers,
fairness per group and the newest drift check. Evaluations and drift checks run as jobs."""

from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
import sqlite_utils
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.evaluate.compare import compressed_variants, side_metric_rows
from engine.evaluate.display import shown_drift, shown_items
from engine.evaluate.word_diff import diff_words
from engine.store import reads, runs
from gui import tasks
from gui.jobs import follow_jobs
from gui.widgets.memorization_box import MemorizationBox
from gui.widgets.run_picker import fill_run_picker

SIDE_COLORS = {"base": "#94a3b8", "tuned": "#2563eb"}
COMPRESSED_COLOR = "#b45309"
VERDICT_COLORS = {"better": "#15803d", "worse": "#b91c1c"}
CLIP_CHARS = 320  # prompts and references longer than this are cut in the side by side
SAMPLES_TITLE = "Side by side (tuned: green added, red dropped vs base)"
COMPRESSED_SAMPLES_TITLE = ("Side by side (green added, red dropped: tuned vs base, "
                            "compressed vs tuned)")
SHOWN_ITEMS = 30  # answers shown side by side (the metrics cover every item)
LOADING_SAMPLES = "<p>Reading the answers…</p>"


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


def diff_rich_text(before: str, after: str) -> str:
    """``after`` as Qt rich text: words new against ``before`` green, dropped ones struck red."""
    styles = {"same": "{}", "ins": "<span style='background:#c8f0c8'>{}</span>",
              "del": "<span style='color:#b91c1c;text-decoration:line-through'>{}</span>"}
    return " ".join(styles[op].format(html.escape(t)) for op, t in diff_words(before, after))


class EvaluatePanel(QWidget):
    """Shows evaluation runs and drift checks of one project and starts new ones.

    Signals:
        evaluation_shown(run_id): an evaluation's answers are on screen (they are read and
            compared on the task runner, after its figures).
    """

    evaluation_shown = Signal(int)

    def __init__(self, db: sqlite_utils.Database, bridge, parent=None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self._shown_eval: int | None = None
        self._build_widgets()
        self._build_layout()
        self.job = follow_jobs(bridge, self)
        self.job.busy_widgets = [self.evaluate_button, self.drift_button]
        self.job.status_label = self.status_label
        self.job.succeeded.connect(self._on_job_succeeded)

    def _build_widgets(self) -> None:
        self.run_combo = QComboBox()
        self.run_combo.currentIndexChanged.connect(self._on_run_chosen)
        self.train_combo = QComboBox()
        self.train_combo.currentIndexChanged.connect(self._on_train_run_chosen)
        self.compressed_check = QCheckBox("with compressed variants")
        self.compressed_check.setToolTip("Also generate with every compressed variant of the "
                                         "run (made in the Compress tab) and show it beside tuned")
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(1, 5000)
        self.limit_spin.setValue(50)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setObjectName("primaryButton")
        self.evaluate_button.clicked.connect(self.run_evaluation)
        self.drift_button = QPushButton("Check new data for drift…")
        self.drift_button.clicked.connect(self._choose_drift_file)
        self.status_label = QLabel()
        self.status_label.setObjectName("subtitle")
        self.metrics_table = QTableWidget(0, 4)
        self.metrics_table.verticalHeader().hide()
        self.metrics_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.metrics_table.verticalHeader().setDefaultSectionSize(26)
        self.metrics_table.setMinimumHeight(26 * 8 + 6)
        self.samples_view = QTextBrowser()
        self.fairness_plot = pg.PlotWidget(title="ROUGE-L per group (tuned)")
        self.fairness_plot.setMouseEnabled(x=False, y=False)
        self.fairness_plot.hideButtons()
        self.fairness_plot.setMinimumHeight(160)
        self.fairness_plot.setMaximumHeight(200)
        self.fairness_label = QLabel()
        self.fairness_label.setWordWrap(True)
        self.drift_label = QLabel("No drift check yet.")
        self.drift_label.setWordWrap(True)
        self.drift_label.setTextFormat(Qt.RichText)
        self.drift_history_label = QLabel()
        self.drift_history_label.setObjectName("subtitle")
        self.memorization_box = MemorizationBox(self.db, self.bridge)

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        for widget in (QLabel("Training run"), self.train_combo, self.compressed_check,
                       QLabel("Items"), self.limit_spin, self.evaluate_button):
            top.addWidget(widget)
        top.addStretch(1)
        shown = QHBoxLayout()
        for widget in (QLabel("Show"), self.run_combo):
            shown.addWidget(widget)
        shown.addStretch(1)
        shown.addWidget(self.drift_button)
        self.metrics_title = _title("Metrics: base vs tuned")
        self.samples_title = _title(SAMPLES_TITLE)
        left = QVBoxLayout()
        for widget in (self.metrics_title, self.metrics_table,
                       _title("Fairness"), self.fairness_plot, self.fairness_label,
                       _title("Drift"), self.drift_label, self.drift_history_label):
            left.addWidget(widget)
        left.addStretch(1)
        left_box = QWidget()
        left_box.setLayout(left)
        right = QVBoxLayout()
        right.addWidget(self.samples_title)
        right.addWidget(self.samples_view)
        right_box = QWidget()
        right_box.setLayout(right)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(left_box)
        split.addWidget(right_box)
        split.setSizes([480, 640])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addLayout(shown)
        layout.addWidget(self.status_label)
        layout.addWidget(split, 1)
        layout.addWidget(self.memorization_box)

    # ----- showing -------------------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project: clear the previous one's runs, metrics, answers, fairness
        and drift, then load this one's newest evaluation and drift check."""
        self.project_id = project_id
        self.job.forget()
        self.status_label.setText("")
        self.train_combo.clear()
        self.run_combo.clear()
        self._shown_eval = None
        self.memorization_box.set_project(project_id)
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload the run pickers (keeping the choices), the drift checks and the
        memorization check."""
        self.memorization_box.refresh()
        fill_run_picker(self.train_combo, self.db, self.project_id, ("train",),
                        keep=self.train_combo.currentData())
        self._on_train_run_chosen()
        self.evaluate_button.setEnabled(self.train_combo.count() > 0)
        fill_run_picker(self.run_combo, self.db, self.project_id, ("evaluate",),
                        keep=self.run_combo.currentData())
        if self.run_combo.currentData() != self._shown_eval or self._shown_eval is None:
            self._on_run_chosen()
        rows = runs.list_for_project(self.db, self.project_id) \
            if self.project_id is not None else []
        drift_runs = [r for r in rows if r["kind"] == "drift"]
        self.show_drift(shown_drift(self.db, self.project_id, drift_runs[0]["summary"])
                        if drift_runs else None)
        self._show_drift_history(drift_runs)

    def _on_train_run_chosen(self, *_args) -> None:
        """Offer the compressed variants of the chosen training run, when it has any."""
        run_id = self.train_combo.currentData()
        count = len(compressed_variants(self.db, run_id)) if run_id is not None else 0
        self.compressed_check.setEnabled(count > 0)
        self.compressed_check.setChecked(count > 0)
        self.compressed_check.setText(f"with {count} compressed variant{'s' * (count != 1)}"
                                      if count else "no compressed variant")

    def _on_run_chosen(self, *_args) -> None:
        run_id = self.run_combo.currentData()
        self._shown_eval = run_id
        if run_id is None:
            self.metrics_title.setText("Metrics: base vs tuned")
            self.samples_title.setText(SAMPLES_TITLE)
            self.metrics_table.setRowCount(0)
            self.samples_view.setHtml("<p>No evaluation yet: choose a training run and press "
                                      "Evaluate.</p>")
            self.fairness_plot.clear()
            self.fairness_plot.getAxis("bottom").setTicks(None)
            self.fairness_plot.setVisible(False)
            self.fairness_label.setText("")
            return
        self.show_evaluation(run_id)

    def show_evaluation(self, run_id: int) -> None:
        """Fill the metrics table, samples and fairness chart from an evaluation run."""
        summary = reads.run_summary(self.db, run_id)
        self._show_metrics(summary)
        self._show_samples(run_id)
        self._show_fairness(summary)
        self.status_label.setText(
            f"Evaluation {run_id}: {summary.get('items')} items from {summary.get('test')}, "
            f"{summary.get('contaminated', 0)} left out (also in training data).")

    def _show_metrics(self, summary: dict) -> None:
        """One column per side; tuned judged against base ("change"), each compressed
        side coloured green or red against tuned."""
        sides, rows = side_metric_rows(summary)
        compressed = [name for name in sides if name not in ("base", "tuned")]
        headers = ["metric", "base", "tuned", "change"] + \
            [name.removeprefix("tuned ") for name in compressed]
        self.metrics_table.setColumnCount(len(headers))
        self.metrics_table.setHorizontalHeaderLabels(headers)
        self.metrics_title.setText("Metrics: base vs tuned" + (
            " vs compressed (coloured against tuned)" if compressed else ""))
        self.metrics_table.setRowCount(len(rows))
        for row, entry in enumerate(rows):
            values, verdicts = entry["values"], entry["verdicts"]
            cells = [(entry["metric"], ""), (_number(values.get("base")), ""),
                     (_number(values.get("tuned")), ""),
                     (verdicts.get("tuned", ""), verdicts.get("tuned", ""))]
            cells += [(_number(values[name]), verdicts.get(name, "")) for name in compressed]
            for column, (text, verdict) in enumerate(cells):
                item = QTableWidgetItem(text)
                if verdict:
                    item.setForeground(QColor(VERDICT_COLORS[verdict]))
                    if column > 3:
                        item.setToolTip(f"{compressed[column - 4]}: {verdict} than tuned")
                self.metrics_table.setItem(row, column, item)

    def _show_samples(self, run_id: int) -> None:
        """Read, redact and compare the answers on the task runner (a word diff per answer
        of a large evaluation would hold the main thread); shown unless another run or
        project was put on screen meanwhile."""
        self.samples_view.setHtml(LOADING_SAMPLES)

        def show(found: tuple[str, bool]) -> None:
            if self._shown_eval != run_id:
                return  # the window shows another run now
            self.samples_view.setHtml(found[0])
            self.samples_title.setText(COMPRESSED_SAMPLES_TITLE if found[1] else SAMPLES_TITLE)
            self.evaluation_shown.emit(run_id)

        tasks.runner().run_with_store(self.db, lambda db: samples_html(db, run_id), show,
                                      owner=self)

    def _show_fairness(self, summary: dict) -> None:
        self.fairness_plot.clear()
        fairness = (summary.get("fairness") or {}).get("tuned")
        self.fairness_plot.setVisible(bool(fairness))
        if not fairness:
            self.fairness_label.setText("The test records carry no group field.")
            return
        groups = list(fairness["by_group"])
        values = [fairness["by_group"][g].get("rougeL", 0.0) for g in groups]
        self.fairness_plot.addItem(pg.BarGraphItem(x=list(range(len(groups))), height=values,
                                                   width=0.6, brush=SIDE_COLORS["tuned"]))
        self.fairness_plot.getAxis("bottom").setTicks([list(enumerate(groups))])
        self.fairness_plot.setYRange(0, max(max(values), 0.01) * 1.15, padding=0)
        gaps = ", ".join(f"{k} {v:.3f}" for k, v in fairness["difference"].items())
        self.fairness_label.setText(f"By {summary.get('group_field')}: largest gap {gaps}")

    def show_drift(self, summary: dict | None) -> None:
        """Show a drift check's verdict, reasons and driving samples (None: no check yet)."""
        if summary is None:
            self.drift_label.setText("No drift check yet.")
            return
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in summary["reasons"])
        drivers = "".join(f"<li><i>{html.escape(d['text'][:120])}</i></li>"
                          for d in summary["drivers"][:3])
        verdict = "<b style='color:#b91c1c'>Drift detected</b>" if summary["drifted"] \
            else "<b style='color:#15803d'>No drift</b>"
        advice = " Consider training on the new data." if summary["drifted"] else ""
        self.drift_label.setText(
            f"{verdict} in {html.escape(Path(summary['file']).name)} (embedding AUC "
            f"{summary['embedding']['auc']:.2f}).{advice}<ul>{reasons}</ul>"
            + (f"Driving samples:<ul>{drivers}</ul>" if drivers else ""))

    def _show_drift_history(self, drift_runs: list[dict]) -> None:
        lines = []
        for run in drift_runs[:6]:
            summary, model = run["summary"], run["summary"].get("model")
            ppl = f", tuned perplexity {model['current']:.2f}" if model else ""
            lines.append(f"{run['created_at'][:16]} {Path(summary.get('file', '?')).name}: "
                         f"{'drift' if summary.get('drifted') else 'ok'}{ppl}")
        self.drift_history_label.setText(
            ("Checks, newest first:\n" + "\n".join(lines)) if len(lines) > 1 else "")

    # ----- jobs --------------------------------------------------------------------------

    def run_evaluation(self) -> int | None:
        """Start an evaluation job of the chosen training run; returns the job id."""
        run_id = self.train_combo.currentData()
        if run_id is None or self.bridge is None or self.job_id is not None:
            return None
        compare = "base,compressed" if self.compressed_check.isChecked() else "base"
        params = {"run_id": run_id, "limit": self.limit_spin.value(), "compare": compare}
        return self.job.start("evaluate", params, self.project_id, "Evaluation",
                              f"Evaluating run {run_id}…")

    def run_drift(self, path: str) -> int | None:
        """Start a drift check of a JSONL file; returns the job id."""
        if self.project_id is None or self.bridge is None or self.job_id is not None:
            return None
        return self.job.start("drift", {"file": path}, self.project_id, "Drift check",
                              f"Checking {path} for drift…")

    @property
    def job_id(self) -> int | None:
        """The evaluation or drift job this panel follows (None when none runs)."""
        return self.job.job_id

    def _choose_drift_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "New data", "", "JSON lines (*.jsonl)")
        if path:
            self.run_drift(path)

    @Slot(dict)
    def _on_job_succeeded(self, result: dict) -> None:
        self.refresh()
        if self.job.what == "Evaluation" and self.run_combo.count():
            self.run_combo.setCurrentIndex(0)  # the evaluation just made


def samples_html(db: sqlite_utils.Database, run_id: int) -> tuple[str, bool]:
    """The side-by-side answers of an evaluation run as rich text (the first
    :data:`SHOWN_ITEMS` items, redacted as the project shows them), and whether a compressed
    variant is among them. Touches no widget: runs on the task runner."""
    parts, compressed_shown = [], False
    for item in shown_items(db, run_id)[:SHOWN_ITEMS]:
        out = item["outputs"]
        tuned = diff_rich_text(out["base"], out["tuned"]) if {"base", "tuned"} <= set(out) \
            else html.escape(out.get("tuned", ""))
        lines = [f"<b>#{item['item'] + 1}</b> {_clipped(item['prompt'])}",
                 f"{_side_label('reference', '#475569')} {_clipped(item['reference'])}",
                 f"{_side_label('base', '#475569')} {html.escape(out.get('base', '–'))}",
                 f"{_side_label('tuned', SIDE_COLORS['tuned'])} {tuned}"]
        for name in sorted(set(out) - {"base", "tuned"}):
            compressed_shown = True
            text = diff_rich_text(out["tuned"], out[name]) if "tuned" in out \
                else html.escape(out[name])
            lines.append(f"{_side_label(name, COMPRESSED_COLOR)} {text}")
        parts.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(parts), compressed_shown


def _number(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def _clipped(text: str, limit: int = CLIP_CHARS) -> str:
    """Escaped ``text``, cut at a word boundary near ``limit`` characters with its length
    noted, so one long record does not push the answers out of view."""
    if len(text) <= limit:
        return html.escape(text)
    cut = text[:limit].rsplit(" ", 1)[0]
    return (f"{html.escape(cut)} <span style='color:#64748b'>… ({len(text.split()):,} "
            "words)</span>")


def _side_label(name: str, color: str) -> str:
    return f"<span style='color:{color}'>{html.escape(name)}:</span>"
