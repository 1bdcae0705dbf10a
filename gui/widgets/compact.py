"""Keep long item texts (run and dataset labels) from widening the whole window."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

MIN_CHARACTERS = 22


def compact_combos(root: QWidget, characters: int = MIN_CHARACTERS) -> None:
    """Size every combo box under ``root`` by a short minimum text, not by its longest
    item; the full text shows in its list and tooltip."""
    for combo in root.findChildren(QComboBox):
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(characters)
