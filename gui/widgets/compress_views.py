"""Comparison of model variants: a table and three small bar charts (size, speed, quality)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

COLUMNS = [("name", "Variant"), ("size_mb", "Size MB"), ("memory_mb", "Weights MB"),
           ("peak_mb", "Peak MB"), ("load_s", "Load s"), ("tokens_per_s", "Tokens/s"),
           ("ppl", "Perplexity"), ("ppl_change", "Δ perplexity"), ("sparsity", "Sparsity")]
HEADER_TIPS = {
    "size_mb": "Size of the model files on disk",
    "memory_mb": "Memory taken by the loaded weights",
    "peak_mb": "Peak memory that loading and measuring this variant added, in one run on the "
               "same inputs (RAM on the CPU, GPU memory on CUDA); – for rows measured before "
               "peak memory was recorded",
}
BAR_COLOURS = {"base": "#9ca3af", "tuned fp32": "#2563eb"}
VARIANT_COLOUR = "#f59e0b"


def merge_comparisons(summaries: list[dict]) -> list[dict]:
    """One row per variant across compress runs of one source run (newest figure wins),
    base and tuned first; ``ppl_change`` is relative to the tuned fp32 model."""
    rows: dict[str, dict] = {}
    for summary in summaries:  # oldest first, so newer measurements replace older
        for row in summary.get("variants", []):
            rows[row["name"]] = dict(row)
    ordered = [rows.pop(n) for n in ("base", "tuned fp32") if n in rows] + list(rows.values())
    reference = next((r["ppl"] for r in ordered if r["name"] == "tuned fp32"), None)
    for row in ordered:
        if reference and row.get("ppl") is not None:
            row["ppl_change"] = row["ppl"] / reference - 1
    return ordered


def _cell(key: str, value) -> str:
    if value is None:
        return "–"
    if key == "ppl_change":
        return f"{value:+.1%}"
    if key == "sparsity":
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    return str(value)


class ComparisonTable(QTableWidget):
    """Variants side by side; numbers right-aligned."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.set_columns(COLUMNS)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)

    def set_columns(self, columns: list[tuple[str, str]]) -> None:
        """Set the column titles and their explanations (tooltips)."""
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels([title for _, title in columns])
        for column, (key, _) in enumerate(columns):
            self.horizontalHeaderItem(column).setToolTip(HEADER_TIPS.get(key, ""))

    def show_rows(self, rows: list[dict]) -> None:
        """Replace the table's rows."""
        self.setRowCount(len(rows))
        for index, row in enumerate(rows):
            for column, (key, _) in enumerate(COLUMNS):
                item = QTableWidgetItem(_cell(key, row.get(key)))
                if column:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.setItem(index, column, item)


class _BarChart(pg.PlotWidget):
    def __init__(self, title: str, parent=None) -> None:
        super().__init__(parent, background="w")
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.getPlotItem().hideButtons()
        self.setTitle(title, color="#374151", size="10pt")
        for side in ("left", "bottom"):
            self.getAxis(side).enableAutoSIPrefix(False)
            self.getAxis(side).setTextPen("#374151")
            self.getAxis(side).setPen("#9ca3af")
        self.getAxis("left").setWidth(48)
        self.setMinimumHeight(170)

    def show_values(self, names: list[str], values: list[float | None]) -> None:
        self.clear()
        if not names:
            self.getAxis("bottom").setTicks(None)
            return
        heights = [v or 0.0 for v in values]
        brushes = [BAR_COLOURS.get(n, VARIANT_COLOUR) for n in names]
        self.addItem(pg.BarGraphItem(x=list(range(len(names))), height=heights, width=0.6,
                                     brushes=brushes, pen=pg.mkPen(None)))
        self.getAxis("bottom").setTicks([list(enumerate(_short(n) for n in names))])
        self.setXRange(-0.6, max(len(names) - 0.4, 0.6), padding=0)
        self.setYRange(0, max(heights + [1e-9]) * 1.1, padding=0)


_DTYPE_SHORT = {"bfloat16": "bf16", "float16": "f16", "float32": "f32"}


def _short(name: str) -> str:
    """A bar label short enough not to run into its neighbours."""
    words = name.split()
    if name.startswith("pruned") and len(words) > 1:
        return "p" + words[1] + (" s" if "structured" in words else "")
    if name == "distilled":
        return "distil"
    return _DTYPE_SHORT.get(words[-1], words[-1])


class ComparisonCharts(QWidget):
    """Size on disk, generation speed and held-out perplexity per variant."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.size_chart = _BarChart("Size on disk (MB)")
        self.speed_chart = _BarChart("Tokens per second")
        self.quality_chart = _BarChart("Perplexity (lower is better)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for chart in (self.size_chart, self.speed_chart, self.quality_chart):
            layout.addWidget(chart)

    def show_rows(self, rows: list[dict]) -> None:
        """Draw the three charts for these rows."""
        names = [r["name"] for r in rows]
        self.size_chart.show_values(names, [r.get("size_mb") for r in rows])
        self.speed_chart.show_values(names, [r.get("tokens_per_s") for r in rows])
        self.quality_chart.show_values(names, [r.get("ppl") for r in rows])
