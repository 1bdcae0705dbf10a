"""The window's look: the Qt style sheet (light or dark) and the app icon.

Both come from Enclave's packaged resources (``resources/``, installed as
``enclave_resources``). The window follows the system's colour scheme when Qt
reports one, and is light otherwise.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPixmap

from engine import resources

THEMES = ("light", "dark")


def system_theme() -> str:
    """``"dark"`` when the system asks for a dark colour scheme, else ``"light"``."""
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is not None and scheme() == Qt.ColorScheme.Dark:
        return "dark"
    return "light"


def style_sheet(theme: str = "light") -> str:
    """The Qt style sheet of ``theme`` (``"light"`` or ``"dark"``)."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
    return resources.read_text("styles", f"{theme}.qss")


def app_icon() -> QIcon:
    """The Enclave icon at every packaged size."""
    icon = QIcon()
    for size in resources.ICON_SIZES:
        pixmap = QPixmap()
        if pixmap.loadFromData(resources.icon_png(size), "PNG"):
            icon.addPixmap(pixmap)
    return icon


def apply(app: QGuiApplication, theme: str | None = None) -> str:
    """Style ``app`` with ``theme`` (default: the system's) and set the window icon.

    Returns:
        The theme applied.
    """
    theme = theme or system_theme()
    sheet = style_sheet(theme)
    if app.styleSheet() != sheet:  # setting it re-polishes every widget alive, even unchanged
        app.setStyleSheet(sheet)
        app.setWindowIcon(app_icon())
    return theme


def follow_system(app: QGuiApplication, is_following=lambda: True) -> None:
    """Re-style ``app`` whenever the system switches between light and dark, while
    ``is_following()`` says the user left the theme on "system"."""
    hints = QGuiApplication.styleHints()
    changed = getattr(hints, "colorSchemeChanged", None)
    if changed is not None:
        changed.connect(lambda _scheme: apply(app) if is_following() else None)
