"""Enclave's desktop window (PySide6). Imports the engine; the engine never imports it."""

from gui import _qt_compat

_qt_compat.apply()
