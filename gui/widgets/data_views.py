"""Widgets of the Data panel: report tables and charts (its recipe form is the window's one
:class:`~gui.widgets.recipe_form.RecipeForm`, re-exported here)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from gui.widgets.recipe_form import RecipeForm

__all__ = ["LengthHistogramPlot", "RecipeForm", "fill_table", "read_only_table"]


def read_only_table(headers: list[str], stretch_last: bool = True) -> QTableWidget:
    """A table for showing rows (not editing them)."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    if stretch_last:
        header.setSectionResizeMode(len(headers) - 1, QHeaderView.Stretch)
    return table


def fill_table(table: QTableWidget, rows: list[list[object]]) -> None:
    """Replace a table's rows."""
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem("" if value is None else str(value))
            item.setToolTip(item.text()[:2000])
            table.setItem(r, c, item)


class LengthHistogramPlot(pg.PlotWidget):
    """Length histogram before (grey) and after (blue) cleaning."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setMinimumHeight(160)
        self.showGrid(x=False, y=True, alpha=0.3)
        self.addLegend(offset=(10, 10))
        self.before = pg.BarGraphItem(x=[], height=[], width=1, brush="#b8c2cf", name="before")
        self.after = pg.BarGraphItem(x=[], height=[], width=1, brush="#2b6cb0", name="after")
        self.addItem(self.before)
        self.addItem(self.after)

    def show_lengths(self, lengths: dict, unit: str) -> None:
        """Draw the histogram of a report's ``lengths``."""
        edges = lengths.get("edges") or []
        if len(edges) < 2:
            self.before.setOpts(x=[], height=[])
            self.after.setOpts(x=[], height=[])
            return
        centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
        width = (edges[-1] - edges[0]) / (len(edges) - 1)
        self.before.setOpts(x=centres, height=lengths["before"], width=width * 0.9)
        self.after.setOpts(x=centres, height=lengths["after"], width=width * 0.55)
        self.setLabel("bottom", f"length ({unit})")
        self.setLabel("left", "records")
