"""Compare tab: tick several training runs and see them side by side.

The loss curves of every ticked run on one chart (training loss as a line, eval loss as
dots, one colour per run), a table of their figures with the best value of each column
marked ★ and the recipe settings that differ between them highlighted, and the runs
ranked as training-search trials (eval loss, else final loss; lower is better).
"""

from __future__ import annotations

import pyqtgraph as pg
import sqlite_utils
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.train.compare_runs import FIGURES, RunComparison, comparable_runs, compare_runs

PALETTE = ["#2563eb", "#dc2626", "#15803d", "#d97706", "#7c3aed", "#0891b2", "#db2777",
           "#4b5563"]
DIFFERENT = QColor("#fff3c4")
RUN_ROLE = Qt.UserRole


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _setting(name: str) -> str:
    """A recipe field as a column header: ``train.learning_rate`` → ``learning rate``."""
    return name.removeprefix("train.").replace("_", " ")


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


def _table() -> QTableWidget:
    table = QTableWidget(0, 0)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    return table


class ComparePanel(QWidget):
    """Compare the ticked training runs of a project.

    Signals:
        compared(run_ids): the chart and tables now show these runs.
    """

    compared = Signal(list)

    def __init__(self, db: sqlite_utils.Database, bridge=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self.comparison = RunComparison()
        self.run_list = QListWidget()
        self.run_list.setAccessibleName("Training runs")
        self.run_list.itemChanged.connect(lambda _item: self.show_comparison())
        self.all_button = QPushButton("Tick all")
        self.all_button.clicked.connect(lambda: self.tick_runs(None))
        self.plot = pg.PlotWidget(title="Loss (lines) and eval loss (dots) per run")
        self.plot.setBackground("w")
        self.plot.setLabel("bottom", "step")
        self.plot.addLegend(offset=(-10, 10))
        self.figures_table, self.ranked_table = _table(), _table()
        self.hint_label = QLabel()
        self.hint_label.setObjectName("subtitle")
        self.hint_label.setWordWrap(True)
        self._build_layout()

    def _build_layout(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(_title("Runs to compare"))
        column.addWidget(self.run_list, 1)
        column.addWidget(self.all_button)
        right = QWidget()
        body = QVBoxLayout(right)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.plot, 3)
        body.addWidget(self.hint_label)
        body.addWidget(_title("Figures (★ best) and the settings that differ (highlighted)"))
        body.addWidget(self.figures_table, 2)
        body.addWidget(_title("Ranked as search trials (eval loss, else final loss)"))
        body.addWidget(self.ranked_table, 2)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([280, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(splitter)

    # ----- project and runs -------------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project's runs, none ticked."""
        self.project_id = project_id
        self.run_list.clear()
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload the runs, keeping the ticks."""
        ticked = set(self.ticked_runs())
        self.run_list.blockSignals(True)
        self.run_list.clear()
        rows = comparable_runs(self.db, self.project_id) if self.project_id is not None else []
        for row in rows:
            item = QListWidgetItem(row["label"])
            item.setData(RUN_ROLE, row["id"])
            item.setToolTip(row["label"])
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if row["id"] in ticked else Qt.Unchecked)
            self.run_list.addItem(item)
        self.run_list.blockSignals(False)
        self.show_comparison()

    def ticked_runs(self) -> list[int]:
        """The ids of the ticked runs, oldest first."""
        ids = [self.run_list.item(i).data(RUN_ROLE) for i in range(self.run_list.count())
               if self.run_list.item(i).checkState() == Qt.Checked]
        return sorted(ids)

    def tick_runs(self, run_ids: list[int] | None) -> None:
        """Tick these runs (None: all) and compare them."""
        self.run_list.blockSignals(True)
        for i in range(self.run_list.count()):
            item = self.run_list.item(i)
            wanted = run_ids is None or item.data(RUN_ROLE) in run_ids
            item.setCheckState(Qt.Checked if wanted else Qt.Unchecked)
        self.run_list.blockSignals(False)
        self.show_comparison()

    # ----- showing ----------------------------------------------------------------------

    def show_comparison(self) -> None:
        """Draw the chart and fill both tables for the ticked runs."""
        run_ids = self.ticked_runs()
        self.comparison = compare_runs(self.db, run_ids) if run_ids else RunComparison()
        self._draw_curves()
        self._fill_figures()
        self._fill_ranked()
        if not self.run_list.count():
            self.hint_label.setText("No training run yet: teach the model in the Training tab.")
        elif len(run_ids) < 2:
            self.hint_label.setText("Tick two or more runs to compare them.")
        else:
            self.hint_label.setText(f"{len(run_ids)} runs compared.")
        self.compared.emit(run_ids)

    def _draw_curves(self) -> None:
        self.plot.clear()
        for index, row in enumerate(self.comparison.rows):
            colour = PALETTE[index % len(PALETTE)]
            curves = self.comparison.curves.get(row["run_id"], {})
            loss, evals = curves.get("loss", []), curves.get("eval_loss", [])
            if loss:
                self.plot.plot([s for s, _ in loss], [v for _, v in loss],
                               pen=pg.mkPen(colour, width=2), name=f"run {row['run_id']}")
            if evals:
                self.plot.plot([s for s, _ in evals], [v for _, v in evals], pen=None,
                               symbol="o", symbolSize=7, symbolBrush=colour)

    def figure_columns(self) -> list[tuple[str, str]]:
        """(key, header) of the figures table: run, name, figures, differing settings."""
        return [("run_id", "run"), ("name", "name"), ("state", "state"),
                *((key, title) for key, (title, _lower) in FIGURES.items()),
                *((name, _setting(name)) for name in self.comparison.differing)]

    def _fill_figures(self) -> None:
        columns = self.figure_columns()
        table = self.figures_table
        table.clear()
        table.setColumnCount(len(columns))
        table.setHorizontalHeaderLabels([title for _key, title in columns])
        table.setRowCount(len(self.comparison.rows))
        bold = QFont()
        bold.setBold(True)
        for r, row in enumerate(self.comparison.rows):
            for c, (key, _title) in enumerate(columns):
                best = self.comparison.best.get(key) == row["run_id"]
                item = QTableWidgetItem(("★ " if best else "") + _cell(row.get(key)))
                if best:
                    item.setFont(bold)
                    item.setToolTip("best of the runs compared")
                if key in self.comparison.differing:
                    item.setBackground(QBrush(DIFFERENT))
                    item.setToolTip("this setting differs between the runs")
                table.setItem(r, c, item)

    def _fill_ranked(self) -> None:
        varied = self.comparison.differing
        headers = ["rank", "run", "eval loss", "final loss", "state",
                   *(_setting(name) for name in varied)]
        table = self.ranked_table
        table.clear()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(self.comparison.ranked))
        for r, row in enumerate(self.comparison.ranked):
            values = [f"{row['rank']}{' ★' if row['best'] else ''}", row["run_id"],
                      row.get("eval_loss"), row.get("loss_end"), row["state"],
                      *(row.get(name) for name in varied)]
            for c, value in enumerate(values):
                table.setItem(r, c, QTableWidgetItem(_cell(value)))
