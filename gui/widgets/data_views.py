"""Widgets of the Data panel: a form built from a recipe dataclass, report tables and charts."""

from __future__ import annotations

import dataclasses

import pyqtgraph as pg
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox,
                               QFormLayout, QHeaderView, QLineEdit, QSpinBox, QTableWidget,
                               QTableWidgetItem, QWidget)


class RecipeForm(QWidget):
    """One editor per field of a recipe dataclass; labels and tooltips from field metadata.

    Args:
        recipe_class: A dataclass whose fields carry ``help`` (and optionally ``choices``,
            ``minimum``, ``maximum``) in their metadata.
    """

    def __init__(self, recipe_class, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recipe_class = recipe_class
        self.editors: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setVerticalSpacing(3)
        for f in dataclasses.fields(recipe_class):
            editor = _editor(f)
            editor.setToolTip(f.metadata.get("help", ""))
            self.editors[f.name] = editor
            layout.addRow(f.name.replace("_", " ").capitalize(), editor)

    def values(self) -> dict:
        """The form's values by field name."""
        out = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                out[name] = editor.isChecked()
            elif isinstance(editor, QComboBox):
                out[name] = editor.currentText()
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                out[name] = editor.value()
            else:
                out[name] = editor.text()
        return out

    def set_values(self, values: dict) -> None:
        """Put values into the editors (unknown names are ignored)."""
        for name, value in values.items():
            editor = self.editors.get(name)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentText(str(value))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value)
            elif editor is not None:
                editor.setText(str(value))


def _editor(f: dataclasses.Field) -> QWidget:
    meta, default = f.metadata, f.default
    if isinstance(default, bool):
        editor = QCheckBox()
        editor.setChecked(default)
    elif "choices" in meta:
        editor = QComboBox()
        editor.addItems(list(meta["choices"]))
        editor.setCurrentText(default)
    elif isinstance(default, int):
        editor = QSpinBox()
        editor.setRange(int(meta.get("minimum", 0)), int(meta.get("maximum", 1_000_000)))
        editor.setValue(default)
    elif isinstance(default, float):
        editor = QDoubleSpinBox()
        editor.setRange(float(meta.get("minimum", 0.0)), float(meta.get("maximum", 1e6)))
        editor.setSingleStep(0.05)
        editor.setValue(default)
    else:
        editor = QLineEdit(str(default))
    return editor


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
