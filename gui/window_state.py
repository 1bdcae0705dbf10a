"""What the window remembers between sessions: size, splitters, last project, details.

Kept with QSettings in an INI file inside the workspace folder (``ENCLAVE_HOME``), so a
test that points the workspace at a temporary folder also points the settings there.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtWidgets import QMainWindow, QSplitter

from engine import paths

SETTINGS_VERSION = 1


def window_settings() -> QSettings:
    """The window's settings file (``<workspace>/window.ini``)."""
    settings = QSettings(str(paths.home() / "window.ini"), QSettings.IniFormat)
    if settings.value("version", 0, int) != SETTINGS_VERSION:
        settings.clear()  # an unknown layout is dropped rather than half applied
        settings.setValue("version", SETTINGS_VERSION)
    return settings


def save(window: QMainWindow, splitters: dict[str, QSplitter], project_id: int | None,
         details: bool) -> None:
    """Remember the window's geometry, splitters, project and details switch."""
    settings = window_settings()
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("size", window.size())
    settings.setValue("maximized", window.isMaximized())
    for name, splitter in splitters.items():
        settings.setValue(f"splitters/{name}", splitter.saveState())
    settings.setValue("last_project", project_id if project_id is not None else -1)
    settings.setValue("details", details)
    settings.sync()


def restore(window: QMainWindow, splitters: dict[str, QSplitter]) -> tuple[int | None, bool]:
    """Apply what was remembered; returns the last project id (or None) and whether the
    details (expert tabs) were shown."""
    settings = window_settings()
    geometry = settings.value("geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)  # position and screen
    size = settings.value("size")
    if isinstance(size, QSize) and size.isValid():
        window.resize(size)  # the size itself, even where the screen is not known
    if settings.value("maximized", False, bool):
        window.showMaximized()
    for name, splitter in splitters.items():
        state = settings.value(f"splitters/{name}")
        if isinstance(state, QByteArray) and not state.isEmpty():
            splitter.restoreState(state)
    last = settings.value("last_project", -1, int)
    details = settings.value("details", False, bool)
    return (last if last >= 0 else None), details
