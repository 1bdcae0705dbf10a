"""Form rows built from a recipe dataclass: one input per field, its help text under it.

A field with ``metadata["choices"]`` becomes a combo box, a bool a check box, anything else
a line edit; the help text is shown under the input and as its tooltip.
"""

from __future__ import annotations

from dataclasses import MISSING, Field, fields
from typing import Any

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit,
                               QVBoxLayout, QWidget)


# One label width for every form of a panel, so that stacked forms line up.
LABEL_WIDTH = 150


def row_label(text: str) -> QLabel:
    """A form row's label, at least :data:`LABEL_WIDTH` wide."""
    label = QLabel(text)
    label.setMinimumWidth(LABEL_WIDTH)
    return label


def field_widget(item: Field) -> QWidget:
    """The input of one recipe field, set to its default."""
    default = item.default if item.default is not MISSING else ""
    choices = item.metadata.get("choices")
    if choices:
        widget = QComboBox()
        widget.addItems(list(choices))
        widget.setCurrentText(str(default))
    elif isinstance(default, bool):
        widget = QCheckBox()
        widget.setChecked(default)
    else:
        widget = QLineEdit(str(default))
    widget.setToolTip(item.metadata.get("help", ""))
    return widget


def widget_value(widget: QWidget, default: object) -> object:
    """The value of an input, as the type of the field's default.

    Raises:
        ValueError: saying what to enter when a number field holds no number.
    """
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    text = widget.text().strip()
    try:
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ValueError(f"enter {kind}, such as {default}" +
                         (f" (not '{text}')" if text else "")) from None
    return text


def hinted(widget: QWidget, help_text: str) -> QVBoxLayout:
    """The input with its help text under it, in small grey type."""
    hint = QLabel(help_text)
    hint.setWordWrap(True)
    hint.setStyleSheet("color:#64748b; font-size:11px;")
    box = QVBoxLayout()
    box.setSpacing(1)
    box.addWidget(widget)
    box.addWidget(hint)
    return box


def add_field_rows(form: QFormLayout, recipe_class: type,
                   skip: tuple[str, ...] = ()) -> dict[str, QWidget]:
    """Add one row per field of ``recipe_class`` (except ``skip``); returns the inputs by name."""
    inputs: dict[str, QWidget] = {}
    for item in fields(recipe_class):
        if item.name in skip:
            continue
        inputs[item.name] = field_widget(item)
        form.addRow(row_label(item.name.replace("_", " ")),
                    hinted(inputs[item.name], item.metadata.get("help", "")))
    return inputs


def form_values(inputs: dict[str, QWidget], recipe_class: type) -> dict[str, Any]:
    """The values of the inputs of ``recipe_class``'s fields.

    Raises:
        ValueError: naming the field whose text is not a number.
    """
    values = {}
    for item in fields(recipe_class):
        if item.name in inputs:
            try:
                values[item.name] = widget_value(inputs[item.name], item.default)
            except ValueError as exc:
                raise ValueError(f"{item.name.replace('_', ' ')}: {exc}") from None
    return values
