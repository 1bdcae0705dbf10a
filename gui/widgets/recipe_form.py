"""The one form built from a recipe dataclass: a row per field, plain label, help under it.

Every recipe form of the window (cleaning, training, DPO) is a :class:`RecipeForm`. A field's
metadata drives its row: ``label`` (plain words; else :mod:`gui.terms`, else the name),
``help`` (under the input and in its tooltip, with the plain one-line explanation),
``choices`` (a combo box), ``min``/``max`` (``minimum``/``maximum``; said in the tooltip
and checked by the recipe), ``expert`` (the row is shown only under "Show all settings";
:data:`gui.terms.EXPERT_FIELDS` marks the usual expert fields where a recipe does not).
A bool becomes a check box, anything else a line edit whose text is read as the type of
the field's default.
"""

from __future__ import annotations

from dataclasses import MISSING, Field, fields
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui import terms

# One label width for every form of a panel, so that stacked forms line up.
LABEL_WIDTH = 120


def row_label(text: str) -> QLabel:
    """A form row's label, at least :data:`LABEL_WIDTH` wide."""
    label = QLabel(text)
    label.setMinimumWidth(LABEL_WIDTH)
    label.setWordWrap(True)
    return label


def _bounds(item: Field) -> str:
    low = item.metadata.get("min", item.metadata.get("minimum"))
    high = item.metadata.get("max", item.metadata.get("maximum"))
    if low is None and high is None:
        return ""
    if high is None:
        return f" (at least {low})"
    return f" (from {low if low is not None else '…'} to {high})"


def field_tooltip(item: Field) -> str:
    """The plain explanation, then the field's own help and its allowed range."""
    plain = terms.explain(item.name)
    own = item.metadata.get("help", "")
    return " ".join(part for part in (plain, own + _bounds(item)) if part)


def field_widget(item: Field, numbers: str = "text") -> QWidget:
    """The input of one recipe field, set to its default.

    Args:
        item: the recipe field.
        numbers: "text" types numbers into a line edit; "spin" gives spin boxes bounded by
            the field's ``min`` / ``max``.
    """
    default = item.default if item.default is not MISSING else ""
    choices = item.metadata.get("choices")
    if choices:
        widget = QComboBox()
        widget.addItems([str(choice) for choice in choices])
        widget.setCurrentText(str(default))
    elif isinstance(default, bool):
        widget = QCheckBox()
        widget.setChecked(default)
    elif numbers == "spin" and isinstance(default, (int, float)):
        widget = _spin_box(item, default)
    else:
        widget = QLineEdit("" if default is None else str(default))
    widget.setToolTip(field_tooltip(item))
    return widget


def _spin_box(item: Field, default: int | float) -> QWidget:
    """A spin box for a number field; the recipe still checks open bounds and the rest."""
    low, high = item.metadata.get("min"), item.metadata.get("max")
    if isinstance(default, int):
        widget = QSpinBox()
        widget.setRange(int(low) if low is not None else 0,
                        int(high) if high is not None else 100_000)
    else:
        widget = QDoubleSpinBox()
        widget.setDecimals(4)
        widget.setSingleStep(0.05)
        widget.setRange(-10.0 if low is None else float(low) - 10.0,
                        100.0 if high is None else float(high) + 10.0)
    widget.setValue(default)
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
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.value()
    text = widget.text().strip()
    try:
        if isinstance(default, bool):
            return text.lower() in ("1", "true", "yes")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ValueError(f"enter {kind}, such as {default}" +
                         (f" (not '{text}')" if text else "")) from None
    return text


def set_widget_value(widget: QWidget, value: object) -> None:
    """Put a value into an input of any kind."""
    if isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QComboBox):
        widget.setCurrentText(str(value))
    elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        widget.setValue(value)
    else:
        widget.setText("" if value is None else str(value))


def hinted(widget: QWidget, help_text: str) -> QVBoxLayout:
    """The input with its help text under it, in small grey type."""
    hint = QLabel(help_text)
    hint.setWordWrap(True)
    hint.setObjectName("hint")
    hint.setStyleSheet("color:#64748b; font-size:11px;")
    box = QVBoxLayout()
    box.setSpacing(1)
    box.addWidget(widget)
    box.addWidget(hint)
    return box


def is_expert(item: Field) -> bool:
    """Whether a field is shown only under "Show all settings"."""
    return bool(item.metadata.get("expert")) or item.name in terms.EXPERT_FIELDS


class RecipeForm(QWidget):
    """Rows for the fields of ``recipe_class`` (except ``skip``); expert rows are folded
    under a "Show all settings" check box.

    Args:
        recipe_class: a recipe dataclass.
        skip: names of fields the panel shows itself.
        parent: the Qt parent.
    """

    def __init__(self, recipe_class: type, skip: tuple[str, ...] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recipe_class = recipe_class
        self.inputs: dict[str, QWidget] = {}
        self.form, self.expert_form = QFormLayout(), QFormLayout()
        for form in (self.form, self.expert_form):
            form.setContentsMargins(0, 0, 0, 0)
            form.setVerticalSpacing(4)
        self.expert_page = QWidget()
        self.expert_page.setLayout(self.expert_form)
        self.details_check = QCheckBox("Show all settings (for experts)")
        self.details_check.toggled.connect(self.expert_page.setVisible)
        for item in fields(recipe_class):
            if item.name not in skip:
                self._add_row(item)
        self.expert_page.setVisible(False)
        self.details_check.setVisible(self.expert_form.rowCount() > 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addWidget(self.details_check)
        layout.addWidget(self.expert_page)

    def _add_row(self, item: Field) -> None:
        widget = field_widget(item)
        self.inputs[item.name] = widget
        text = item.metadata.get("label") or terms.label(item.name)
        label = row_label(text)
        label.setToolTip(field_tooltip(item))
        form = self.expert_form if is_expert(item) else self.form
        form.addRow(label, hinted(widget, item.metadata.get("help", "")))
        label.setBuddy(widget)
        widget.setAccessibleName(text)

    def values(self) -> dict[str, Any]:
        """The form's values by field name, typed as the fields' defaults.

        Raises:
            ValueError: naming the field whose text is not a number.
        """
        return form_values(self.inputs, self.recipe_class)

    def set_values(self, values: dict) -> None:
        """Put values into the inputs (unknown names are ignored)."""
        for name, value in values.items():
            if name in self.inputs:
                set_widget_value(self.inputs[name], value)


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
