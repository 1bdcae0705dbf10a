"""Guards against known defects of the installed Qt binding.

PySide6 6.12.0 on CPython 3.11 loses references to the singletons it returns:
one reference to ``None`` on every call of a Qt method that returns nothing
(``resize``, every ``QPainter.draw*``) and one reference to ``True`` on every
``Signal.emit``/``connect``/``disconnect``. These objects are not immortal before
Python 3.12, so after some thousand calls the process aborts with
"none_dealloc: deallocating None" or "bool_dealloc". Until that release is
excluded from the dependencies, :func:`apply` gives the three singletons a
reference count so large that the lost references can never bring it to zero.
"""

from __future__ import annotations

import ctypes
import sys

import PySide6

AFFECTED_VERSIONS = {"6.12.0"}
_PADDING = 1 << 40
_SINGLETONS = (None, True, False)


def needs_singleton_padding() -> bool:
    """True for the PySide6 releases and Python versions with the defect."""
    return (PySide6.__version__ in AFFECTED_VERSIONS and sys.version_info < (3, 12)
            and sys.implementation.name == "cpython")


def apply() -> None:
    """Apply the guards this process needs (once; later calls do nothing)."""
    if not needs_singleton_padding():
        return
    for singleton in _SINGLETONS:
        if sys.getrefcount(singleton) < _PADDING:
            # ob_refcnt is the first field of every CPython object.
            ctypes.c_ssize_t.from_address(id(singleton)).value += _PADDING
