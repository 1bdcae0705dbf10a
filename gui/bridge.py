"""The only place where engine events become Qt signals.

The job runner calls its listeners from supervisor threads. :class:`EngineBridge`
forwards each update over a queued connection, so that every public signal is
emitted on the thread that owns the bridge (the GUI thread) and slots may touch
widgets freely.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot

from engine.jobs.runner import DEFAULT_GRACE_S, JobRunner, JobUpdate


class EngineBridge(QObject):
    """Owns the :class:`JobRunner` of the workspace and relays its updates.

    Signals:
        job_started(job_id): a job was submitted from this window.
        job_progressed(job_id, event): a progress event (stage, step, total,
            message, metrics).
        job_finished(job_id, row): the job reached a final state; ``row`` is the
            job row with ``state``, ``error`` and ``result``.

    Args:
        db_path: the workspace file.
        parent: the Qt parent.
    """

    job_started = Signal(int)
    job_progressed = Signal(int, dict)
    job_finished = Signal(int, dict)
    _update_arrived = Signal(object)  # emitted from supervisor threads

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._closed = False
        self._update_arrived.connect(self._on_update_arrived, Qt.QueuedConnection)
        self.runner = JobRunner(db_path)
        self.runner.add_listener(self._listen)

    @property
    def recovered(self) -> list[int]:
        """Jobs that were found stale at start-up and marked interrupted."""
        return list(self.runner.recovered)

    def submit(self, kind: str, params: dict | None = None,
               project_id: int | None = None) -> int:
        """Start a job in a child process and return its id."""
        job_id = self.runner.submit(kind, params or {}, project_id)
        self.job_started.emit(job_id)
        return job_id

    def cancel(self, job_id: int, grace_s: float = DEFAULT_GRACE_S) -> None:
        """Ask a job to stop; its process is killed after ``grace_s`` seconds."""
        self.runner.cancel(job_id, grace_s)

    def running(self) -> list[int]:
        """Ids of the jobs this window still supervises."""
        return self.runner.running()

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Cancel every running job and wait for it (called when the app quits)."""
        self.runner.shutdown(grace_s)
        self._closed = True

    def _listen(self, update: JobUpdate) -> None:
        """Runs on a supervisor thread: hand the update to the GUI thread."""
        if not self._closed:
            self._update_arrived.emit(update)

    @Slot(object)
    def _on_update_arrived(self, update: JobUpdate) -> None:
        if update.kind == "progress":
            self.job_progressed.emit(update.job_id, update.data)
        elif update.kind == "finished":
            self.job_finished.emit(update.job_id, update.data)
