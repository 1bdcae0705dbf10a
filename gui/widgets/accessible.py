"""Every input gets a name a screen reader can say: its form label, made its buddy.

:func:`name_inputs` walks a widget's form layouts: the label of each row becomes the buddy
of the row's input (so Alt+letter and screen readers find it) and its text the input's
accessible name. :func:`unnamed_inputs` lists what still has neither (the tests use it).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QRadioButton,
    QSlider,
    QTextEdit,
    QWidget,
)

INPUTS = (QLineEdit, QComboBox, QAbstractSpinBox, QCheckBox, QRadioButton, QTextEdit,
          QPlainTextEdit, QSlider, QListWidget)


def _first_input(layout: QLayout) -> QWidget | None:
    for index in range(layout.count()):
        item = layout.itemAt(index)
        if item.widget() is not None and isinstance(item.widget(), INPUTS):
            return item.widget()
        if item.layout() is not None:
            found = _first_input(item.layout())
            if found is not None:
                return found
    return None


def _is_part_of_another(widget: QWidget) -> bool:
    """The line edit inside a spin box or an editable combo, a combo's popup list."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractSpinBox, QComboBox)):
            return True
        parent = parent.parentWidget() if not parent.isWindow() else None
    return False


def _name(label: QLabel, target: QWidget) -> int:
    label.setBuddy(target)
    if target.accessibleName():
        return 0
    target.setAccessibleName(label.text().replace("&", "").rstrip(":"))
    return 1


def _name_in_rows(root: QWidget) -> int:
    """A label directly before an input in a row or column names that input."""
    named = 0
    for layout in root.findChildren(QBoxLayout):
        previous = None
        for index in range(layout.count()):
            widget = layout.itemAt(index).widget()
            if isinstance(widget, INPUTS) and isinstance(previous, QLabel) \
                    and previous.buddy() is None and previous.text().strip():
                named += _name(previous, widget)
            previous = widget
    return named


def name_inputs(root: QWidget) -> int:
    """Give every input that follows its label (a form row, or a label just before it in
    a row) that label as buddy and accessible name; returns how many were named."""
    named = _name_in_rows(root)
    for form in root.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            label = form.itemAt(row, QFormLayout.LabelRole)
            field = form.itemAt(row, QFormLayout.FieldRole)
            if label is None or field is None or not isinstance(label.widget(), QLabel):
                continue
            target = field.widget() if isinstance(field.widget(), INPUTS) else \
                _first_input(field.layout()) if field.layout() is not None else None
            if target is None:
                continue
            named += _name(label.widget(), target)
    return named


def unnamed_inputs(root: QWidget) -> list[QWidget]:
    """Inputs under ``root`` with no accessible name, no buddy label and no own text."""
    buddies = {id(label.buddy()) for label in root.findChildren(QLabel)
               if label.buddy() is not None}
    missing = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INPUTS) or _is_part_of_another(widget):
            continue
        if widget.accessibleName() or id(widget) in buddies:
            continue
        if isinstance(widget, (QCheckBox, QRadioButton)) and widget.text():
            continue
        if isinstance(widget, (QTextEdit, QPlainTextEdit)) and widget.isReadOnly():
            continue  # shown text, not an input
        missing.append(widget)
    return missing
