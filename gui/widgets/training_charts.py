"""The live charts of a training run: loss and eval loss, learning rate, tokens/s, and (for
DPO) reward accuracy and margin, per step.

Redrawing costs the main thread, so live points are drawn at most every
:data:`LIVE_REDRAW_MS`, one chart per timer tick, and each curve draws about as many points
as its chart is wide.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

CURVES = {"loss": "#2563eb", "eval_loss": "#dc2626", "lr": "#7c3aed", "tokens_per_s": "#15803d",
          "reward_accuracy": "#0891b2", "reward_margin": "#db2777"}
PLOTS = (("loss", ("loss", "eval_loss")), ("learning rate", ("lr",)),
         ("tokens / s", ("tokens_per_s",)), ("DPO rewards", ("reward_accuracy", "reward_margin")))
DPO_PLOT = "DPO rewards"
LIVE_REDRAW_MS = 500
PLOT_STAGGER_MS = 60


class TrainingCharts(QWidget):
    """Four charts side by side (the DPO one hidden until asked for) and their points."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: dict[str, list[tuple[int, float]]] = {name: [] for name in CURVES}
        self.plots: dict[str, pg.PlotWidget] = {}
        self.lines: dict[str, pg.PlotDataItem] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._redraw_next)
        self._pending: list = []
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for title, names in PLOTS:
            plot = pg.PlotWidget(title=title)
            plot.setMinimumSize(110, 140)  # small screens: the charts narrow, nothing clips
            plot.setBackground("w")
            plot.addLegend(offset=(-10, 10)) if len(names) > 1 else None
            for name in names:
                self.lines[name] = _live_curve(plot, name)
            plot.setLabel("bottom", "step")
            self.plots[title] = plot
            row.addWidget(plot)
        self.show_dpo(False)

    def show_dpo(self, shown: bool) -> None:
        """Show or hide the DPO rewards chart."""
        self.plots[DPO_PLOT].setVisible(shown)

    def clear_series(self) -> None:
        """Empty every chart (another project, or a run about to start; the step axis
        follows the data until a run's length is known)."""
        self.show_series({})

    def show_series(self, points: dict[str, list[tuple[int, float]]]) -> None:
        """Draw a finished run's (or no run's) series now."""
        self.points = {name: list(points.get(name, [])) for name in CURVES}
        for plot in self.plots.values():
            plot.getViewBox().enableAutoRange(x=True)
        self.redraw()

    def add_progress(self, event: dict) -> None:
        """Every metric point of a job's progress event joins the curves; one redraw soon."""
        metrics = event.get("metrics", {})
        for point in event.get("points") or [{"step": event["step"], **metrics}]:
            for name in CURVES:
                if name in point:
                    self.points[name].append((point["step"], float(point[name])))
        self._fix_step_axis(event.get("total") or 0)
        self._redraw_soon()

    def redraw(self) -> None:
        """Redraw every curve now."""
        self._timer.stop()
        self._pending = []
        self._set_lines(list(self.lines))

    def _redraw_soon(self) -> None:
        """At most every :data:`LIVE_REDRAW_MS`, one chart per timer tick (a chart repaint
        costs tens of milliseconds of the main thread; three at once would freeze the
        window for their sum)."""
        if not self._timer.isActive():
            self._pending = [names for _title, names in PLOTS]
            self._timer.start(LIVE_REDRAW_MS)

    def _redraw_next(self) -> None:
        if self._pending:
            self._set_lines(self._pending.pop(0))
        if self._pending:
            self._timer.start(PLOT_STAGGER_MS)

    def _fix_step_axis(self, total: int) -> None:
        """While a job runs the step axis spans the whole run, so it is not re-laid out
        (its ticks recomputed and redrawn) at every new point."""
        for plot in self.plots.values():
            view = plot.getViewBox()
            if total and view.state["autoRange"][0] is not False:
                plot.setXRange(0, total, padding=0.02)
                view.enableAutoRange(x=False)

    def _set_lines(self, names) -> None:
        for name in names:
            points = self.points.get(name, [])
            self.lines[name].setData([p[0] for p in points], [p[1] for p in points])


def _live_curve(plot: pg.PlotWidget, name: str) -> pg.PlotDataItem:
    """One curve of a live chart, drawn at a cost bounded by the chart's width rather than
    the run's length: many steps per pixel are thinned to each pixel's lowest and highest
    value (peak downsampling, so no spike is hidden), only the visible span is drawn, and
    the line is drawn without anti-aliasing (an anti-aliased path of a few thousand noisy
    points takes tens of milliseconds of the main thread to paint)."""
    symbol = "o" if name == "eval_loss" else None
    curve = plot.plot([], [], name=name.replace("_", " "), symbol=symbol, symbolSize=6,
                      pen=pg.mkPen(CURVES[name], width=2), symbolBrush=CURVES[name],
                      antialias=False)
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    return curve
