"""Status lines under a panel's buttons: plain or in the error style."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


def show_status(label: QLabel, text: str, error: bool = False) -> None:
    """Set a status label's text, styled as an error when ``error``."""
    label.setObjectName("errorText" if error else "subtitle")
    label.style().unpolish(label)
    label.style().polish(label)
    label.setText(text)
