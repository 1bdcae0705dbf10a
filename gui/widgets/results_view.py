"""The results of a project's demo run: loss curve, perplexity, sizes, wall time."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

pg.setConfigOptions(antialias=True, background="w", foreground="#374151")

LOSS_PEN = pg.mkPen("#2563eb", width=2)
BAR_COLORS = ["#9ca3af", "#2563eb", "#60a5fa"]
PERPLEXITY_KEYS = [("ppl_base", "Base"), ("ppl_tuned", "Tuned"), ("ppl_tuned_8bit", "Tuned 8-bit")]
SIZE_KEYS = [("size_base_mb", "Base"), ("size_tuned_mb", "Tuned"),
             ("size_tuned_8bit_mb", "Tuned 8-bit")]
LIVE_REDRAW_MS = 250  # live points are drawn at most four times a second
NO_RESULTS = "No results yet: run the demo to train and evaluate a model."
DATA_KEYS = [("records_in", "Records in"), ("records_valid", "Valid"),
             ("records_after_clean", "After cleaning"), ("train_records", "Train"),
             ("test_records", "Test"), ("selected", "Selected (coreset)")]


def _number(value: object, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        return f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"
    return str(value)


def _duration(seconds: object) -> str:
    if not isinstance(seconds, (int, float)):
        return "—"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


class _Card(QFrame):
    """A titled box of label → value rows."""

    def __init__(self, title: str, rows: list[tuple[str, str]], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QGridLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setVerticalSpacing(4)
        heading = QLabel(title)
        heading.setObjectName("cardTitle")
        layout.addWidget(heading, 0, 0, 1, 2)
        self.values: dict[str, QLabel] = {}
        for i, (key, name) in enumerate(rows, start=1):
            layout.addWidget(QLabel(name), i, 0)
            value = QLabel("—")
            value.setObjectName("figure")
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            layout.addWidget(value, i, 1)
            self.values[key] = value
        layout.setRowStretch(len(rows) + 1, 1)


class ResultsView(QWidget):
    """Loss curve (live while training), perplexity before/after, sizes, wall time."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._loss: list[tuple[int, float]] = []
        self.loss_plot = pg.PlotWidget(title="Training loss")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.15)
        self.loss_plot.setMinimumHeight(180)
        self.loss_curve = self.loss_plot.plot([], [], pen=LOSS_PEN, symbol="o", symbolSize=4,
                                              symbolBrush="#2563eb", symbolPen=None,
                                              antialias=False)
        self.loss_curve.setDownsampling(auto=True, method="peak")
        self.loss_curve.setClipToView(True)
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(LIVE_REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw_loss)
        self.ppl_plot = pg.PlotWidget(title="Perplexity (lower is better)")
        self.ppl_plot.setMouseEnabled(x=False, y=False)
        self.ppl_plot.hideButtons()
        self.ppl_plot.getAxis("bottom").setTicks([[(i, n) for i, (_, n)
                                                   in enumerate(PERPLEXITY_KEYS)]])
        self.ppl_plot.setXRange(-0.6, 2.6, padding=0)
        self.ppl_bars: pg.BarGraphItem | None = None
        self._perplexity_text: str | None = None
        self._headline = NO_RESULTS
        self.ppl_label = QLabel(NO_RESULTS)
        self.ppl_label.setObjectName("headline")
        self.ppl_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.ppl_label.setWordWrap(True)
        self.perplexity_card = _Card("Perplexity on the test split", PERPLEXITY_KEYS)
        self.size_card = _Card("Model size (MB)", SIZE_KEYS + [("wall_s", "Wall time")])
        self.data_card = _Card("Data", DATA_KEYS)
        self._build_layout()

    def _build_layout(self) -> None:
        charts = QHBoxLayout()
        charts.addWidget(self.loss_plot, 3)
        charts.addWidget(self.ppl_plot, 2)
        cards = QHBoxLayout()
        for card in (self.perplexity_card, self.size_card, self.data_card):
            card.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
            cards.addWidget(card, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.ppl_label)
        layout.addLayout(charts, 1)
        layout.addLayout(cards)

    @property
    def loss_points(self) -> list[tuple[int, float]]:
        """The (step, loss) points the curve shows."""
        return list(self._loss)

    def clear(self) -> None:
        """Forget the shown results."""
        self.set_loss_series([])
        self.show_summary({})
        self.set_headline(NO_RESULTS)

    def set_headline(self, text: str) -> None:
        """The line above the charts when no perplexity is shown (what the project has)."""
        self._headline = text
        self.ppl_label.setText(self._perplexity_text or text)

    def set_loss_series(self, points: list[tuple[int, float]]) -> None:
        """Show a whole loss curve (from the store)."""
        self._loss = [(int(s), float(v)) for s, v in points]
        self._redraw_loss()

    def add_loss_point(self, step: int, loss: float) -> None:
        """Append one live point while training runs; the curve is redrawn at most every
        :data:`LIVE_REDRAW_MS` (a repaint per point would keep the main thread busy)."""
        self._loss.append((int(step), float(loss)))
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _redraw_loss(self) -> None:
        self._redraw_timer.stop()
        self.loss_curve.setData([s for s, _ in self._loss], [v for _, v in self._loss])

    def show_summary(self, summary: dict) -> None:
        """Fill the figures and the perplexity chart from a run summary."""
        for card in (self.perplexity_card, self.size_card, self.data_card):
            for key, label in card.values.items():
                value = summary.get(key)
                label.setText(_duration(value) if key == "wall_s" else
                              _number(value, 1 if key.startswith("size") else 2))
        self._draw_perplexity(summary)

    def _draw_perplexity(self, summary: dict) -> None:
        if self.ppl_bars is not None:
            self.ppl_plot.removeItem(self.ppl_bars)
            self.ppl_bars = None
        values = [summary.get(key) for key, _ in PERPLEXITY_KEYS]
        if not all(isinstance(v, (int, float)) for v in values):
            self._perplexity_text = None
            self.ppl_label.setText(self._headline)
            return
        self.ppl_bars = pg.BarGraphItem(x=[0, 1, 2], height=values, width=0.6,
                                        brushes=BAR_COLORS, pens=[None] * 3)
        self.ppl_plot.addItem(self.ppl_bars)
        self.ppl_plot.setYRange(0, max(values) * 1.1, padding=0)
        base, tuned, tuned8 = values
        change = 100 * (tuned - base) / base if base else 0.0
        self._perplexity_text = (f"Perplexity {_number(base)} → {_number(tuned)} (tuned, "
                                 f"{change:+.0f}%) → {_number(tuned8)} (tuned, 8-bit)")
        self.ppl_label.setText(self._perplexity_text)
