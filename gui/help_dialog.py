"""Help (F1): the guided path's steps and a glossary of every term, in plain words."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from gui.panels.guide import STEPS
from gui.terms import TERMS


def help_html() -> str:
    """The help page: the six steps, then the glossary."""
    steps = "".join(f"<li><b>{html.escape(s.title)}</b>: {html.escape(s.words)}</li>"
                    for s in STEPS)
    terms = "".join(f"<dt><b>{html.escape(label)}</b></dt><dd>{html.escape(text)}</dd>"
                    for label, text in sorted(TERMS.values()))
    return (f"<h2>Teaching a model with Enclave</h2><p>Every project follows the same path. "
            f"Each step has a recommended setting; <i>Details…</i> shows every setting for "
            f"experts. Nothing you import leaves this computer.</p><ol>{steps}</ol>"
            f"<h3>Words you will meet</h3><dl>{terms}</dl>")


class HelpDialog(QDialog):
    """The help page in a window of its own."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Enclave help")
        self.resize(640, 560)
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Help text")
        self.browser.setHtml(help_html())
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
