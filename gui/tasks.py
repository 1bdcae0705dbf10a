"""Slow calls off the main thread, results back on it (as Anki's ``taskman`` does).

A task is a plain function. When it needs the store it takes a connection of its own
(``run_with_store``: SQLite connections stay in the thread that opened them); it never
touches a widget. Its result (or its exception) comes back to a callback on the main
thread, where widgets may be changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
import sqlite_utils
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from engine.store import open_store


class _TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _TaskSignals) -> None:
        super().__init__()
        self.fn, self.signals = fn, signals

    def run(self) -> None:  # worker thread: no widgets here
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001  (handed to the caller's on_error)
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class TaskRunner(QObject):
    """Runs functions on a small thread pool and calls back on the main thread.

    Signals:
        task_finished(): a task ended and its callback ran (tests wait on it).

    Args:
        parent: the Qt parent.
    """

    task_finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._live: set[_TaskSignals] = set()

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
            on_error: Callable[[Exception], None] | None = None,
            owner: QObject | None = None) -> None:
        """Call ``fn()`` on a worker; then ``on_done(result)`` or ``on_error(exc)`` here,
        unless ``owner`` (the widget the callbacks change) was deleted meanwhile."""
        signals = _TaskSignals()
        self._live.add(signals)

        @Slot(object)
        def finish(value, callback=on_done) -> None:
            self._live.discard(signals)
            if callback is not None and (owner is None or shiboken6.isValid(owner)):
                callback(value)
            self.task_finished.emit()

        signals.done.connect(finish)
        signals.failed.connect(lambda exc: finish(exc, on_error or _reraise))
        self.pool.start(_Task(fn, signals))

    def run_with_store(self, store: sqlite_utils.Database | Path,
                       fn: Callable[[Any], Any], on_done: Callable[[Any], None],
                       on_error: Callable[[Exception], None] | None = None,
                       owner: QObject | None = None) -> None:
        """Like :meth:`run`, with ``fn(db)`` given a connection of its own to the workspace
        of ``store`` (the caller's connection, or the workspace file)."""
        db_path = store_path(store)

        def with_store():
            db = open_store(db_path, migrate=False, check=False)
            try:
                return fn(db)
            finally:
                db.close()

        self.run(with_store, on_done, on_error, owner)

    def busy(self) -> bool:
        """Whether a task is still running or waiting for its callback."""
        return bool(self._live)

    def wait(self, msecs: int = 5000) -> bool:
        """Block until every worker is idle (at shutdown); True when they are."""
        return self.pool.waitForDone(msecs)


_shared: TaskRunner | None = None


def runner() -> TaskRunner:
    """The window's one task runner (made on first use, owned by the application)."""
    global _shared
    if _shared is None:
        from PySide6.QtCore import QCoreApplication

        _shared = TaskRunner(QCoreApplication.instance())
    return _shared


def store_path(store: sqlite_utils.Database | Path) -> Path:
    """The file of a workspace connection (or the path itself)."""
    if isinstance(store, sqlite_utils.Database):
        return Path(store.execute("PRAGMA database_list").fetchone()[2])
    return Path(store)


def _reraise(exc: Exception) -> None:
    raise exc
