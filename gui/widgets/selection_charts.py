"""Charts of a coreset selection: the 2-D map of all rows and the label shares."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

PALETTE = ["#93c5fd", "#fca5a5", "#86efac", "#fcd34d", "#c4b5fd", "#f9a8d4", "#67e8f9",
           "#fdba74", "#a5b4fc", "#bef264", "#d8b4fe", "#5eead4"]
SELECTED_BRUSH = pg.mkBrush("#111827")
SELECTED_PEN = pg.mkPen("#fbbf24", width=1.5)
ALL_BAR = "#9ca3af"
SUBSET_BAR = "#2563eb"


def _palette_brushes() -> list:
    colours = [QColor(c) for c in PALETTE]
    for colour in colours:
        colour.setAlpha(170)
    return [pg.mkBrush(c) for c in colours]


def _plain_axes(plot: pg.PlotWidget) -> None:
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)
        plot.getAxis(side).setTextPen("#374151")
        plot.getAxis(side).setPen("#9ca3af")


class SelectionMapPlot(pg.PlotWidget):
    """Every row as a dot coloured by cluster; the selected rows as large dark dots.

    The dots of one colour form one scatter (a dozen in all), so a map of many rows is set
    in a few array calls rather than a brush per dot on the main thread."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        _plain_axes(self)
        self.setMenuEnabled(False)
        self.getPlotItem().hideButtons()
        self.setLabel("bottom", "PCA 1")
        self.setLabel("left", "PCA 2")
        self.setTitle("Map of all samples (PCA; clusters coloured, selected dark)",
                      size="10pt", color="#374151")
        self.colour_points = [pg.ScatterPlotItem(size=6, pen=None, brush=brush)
                              for brush in _palette_brushes()]
        self.selected_points = pg.ScatterPlotItem(size=11, pen=SELECTED_PEN,
                                                  brush=SELECTED_BRUSH, symbol="o")
        for item in (*self.colour_points, self.selected_points):
            self.addItem(item)

    def show_map(self, coords: np.ndarray, clusters: np.ndarray, selected: np.ndarray) -> None:
        """Draw the map (coords ``(n, 2)``, cluster per row, selected row indices)."""
        colour_of = np.asarray(clusters, dtype=np.int64) % len(self.colour_points)
        for colour, item in enumerate(self.colour_points):
            mine = coords[colour_of == colour]
            item.setData(x=mine[:, 0], y=mine[:, 1])
        chosen = coords[np.asarray(selected, dtype=np.int64)]
        self.selected_points.setData(x=chosen[:, 0], y=chosen[:, 1])
        self.autoRange()

    def clear_map(self) -> None:
        for item in (*self.colour_points, self.selected_points):
            item.clear()


class LabelSharePlot(pg.PlotWidget):
    """Share of each label in all rows (grey) and in the subset (blue), as horizontal bars."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent, background="w")
        _plain_axes(self)
        self.setMenuEnabled(False)
        self.getPlotItem().hideButtons()
        self.setMouseEnabled(False, False)

    def show_shares(self, shares: dict | None) -> None:
        """Draw ``{"all": {label: share}, "subset": {...}}``; empty when None."""
        self.clear()
        if not shares:
            self.getAxis("left").setTicks(None)
            self.setTitle("Labels: this dataset has none", size="9pt", color="#374151")
            return
        self.setTitle("Labels %: all (grey), subset (blue)", size="9pt", color="#374151")
        names = list(shares["all"])[::-1]
        y = np.arange(len(names))
        every = np.array([100 * shares["all"][n] for n in names])
        subset = np.array([100 * shares["subset"][n] for n in names])
        self.addItem(pg.BarGraphItem(x0=0, y=y + 0.2, width=every, height=0.38, brush=ALL_BAR,
                                     pen=None))
        self.addItem(pg.BarGraphItem(x0=0, y=y - 0.2, width=subset, height=0.38,
                                     brush=SUBSET_BAR, pen=None))
        self.getAxis("left").setTicks([[(i, n.replace("_", " ")) for i, n in enumerate(names)]])
        self.setYRange(-0.7, len(names) - 0.3, padding=0)
        self.setXRange(0, max(every.max(), subset.max()) * 1.12, padding=0)
