"""Every text a user can reach in a widget tree, for tests that check what the window shows.

``visible_texts(widget)`` walks the widget and all its children, shown or not (a widget on
another tab or a hidden error line is one click away), and returns their texts: labels,
line edits, text boxes, buttons, group box titles, tab titles, tooltips, every item of every
combo box, every cell (display text and tooltip) and header of every item model, and in
pyqtgraph charts the titles, axis labels, named ticks, legend entries and text items.
``plotted_points(widget)`` counts the points of every shown curve, scatter and bar in the
tree.

Import it from a test in tests/gui as ``from visible_text import visible_texts`` (the
folder's conftest puts it on the path).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

ROLES = (Qt.DisplayRole, Qt.ToolTipRole)
FLAT_MODELS = (QAbstractTableModel, QAbstractListModel)
MAX_DEPTH = 16


def visible_texts(widget: QWidget) -> list[str]:
    """The non-empty texts of ``widget`` and every widget under it (see module doc)."""
    texts: list[str] = []
    for each in [widget, *widget.findChildren(QWidget)]:
        texts += _own_texts(each)
    return [text for text in texts if text]


def plotted_points(widget: QWidget) -> int:
    """How many points all curves, scatters and bars under ``widget`` draw (0: empty)."""
    total = 0
    for view in _graphics_views(widget):
        for item in view.scene().items():
            if not item.isVisible():  # pyqtgraph hides a curve set to no data
                continue
            if isinstance(item, pg.PlotCurveItem):
                total += 0 if item.xData is None else len(item.xData)
            elif isinstance(item, pg.ScatterPlotItem):
                total += len(item.data)
            elif isinstance(item, pg.BarGraphItem):
                heights = item.opts.get("height")
                widths = item.opts.get("width")
                sizes = [len(v) for v in (heights, widths) if hasattr(v, "__len__")]
                total += max(sizes, default=1 if heights is not None else 0)
    return total


def _own_texts(widget: QWidget) -> list[str]:
    texts = [widget.toolTip(), widget.windowTitle() if widget.isWindow() else ""]
    if isinstance(widget, (QLabel, QLineEdit, QAbstractButton)):
        texts.append(widget.text())
    elif isinstance(widget, (QTextEdit, QPlainTextEdit)):
        texts.append(widget.toPlainText())
    elif isinstance(widget, QGroupBox):
        texts.append(widget.title())
    elif isinstance(widget, QTabBar):
        texts += [widget.tabText(i) for i in range(widget.count())]
    elif isinstance(widget, QComboBox):
        texts += [widget.itemText(i) for i in range(widget.count())] + [widget.currentText()]
    if isinstance(widget, QAbstractItemView) and widget.model() is not None:
        texts += model_texts(widget.model())
    if isinstance(widget, pg.GraphicsView):
        texts += _chart_texts(widget)
    return texts


def model_texts(model: QAbstractItemModel, parent: QModelIndex = QModelIndex(),
                depth: int = 0) -> list[str]:
    """Display texts and tooltips of every cell (children of tree models included) and
    header."""
    texts: list[str] = []
    if not parent.isValid():
        for orientation, count in ((Qt.Horizontal, model.columnCount()),
                                   (Qt.Vertical, model.rowCount())):
            texts += [_text(model.headerData(i, orientation, Qt.DisplayRole))
                      for i in range(count)]
    for row in range(model.rowCount(parent)):
        for column in range(model.columnCount(parent)):
            index = model.index(row, column, parent)
            texts += [_text(model.data(index, role)) for role in ROLES]
            if column == 0 and depth < MAX_DEPTH and not isinstance(model, FLAT_MODELS) \
                    and model.rowCount(index) > 0:
                texts += model_texts(model, index, depth + 1)
    return texts


def _graphics_views(widget: QWidget) -> list[pg.GraphicsView]:
    views = [w for w in [widget, *widget.findChildren(QWidget)]
             if isinstance(w, pg.GraphicsView)]
    return [view for view in views if view.scene() is not None]


def _chart_texts(view: pg.GraphicsView) -> list[str]:
    texts: list[str] = []
    if view.scene() is None:
        return texts
    for item in view.scene().items():
        if isinstance(item, pg.LabelItem):
            texts.append(item.text)
        elif isinstance(item, pg.TextItem):
            texts.append(item.textItem.toPlainText())
        elif isinstance(item, pg.AxisItem):
            texts.append(item.labelText)
            for level in getattr(item, "_tickLevels", None) or []:
                texts += [str(name) for _value, name in level]
        elif isinstance(item, pg.PlotDataItem):
            texts.append(item.name() or "")
    return texts


def _text(value: object) -> str:
    return "" if value is None else str(value)
