"""One job controller for the whole window: start, progress, cancel, finish, error → message.

:class:`JobController` sits on the :class:`~gui.bridge.EngineBridge` (the only place that
turns engine events into Qt signals). Panels never connect to the bridge: each asks the
controller for a :class:`PanelJob`, which follows the one job the panel started, keeps its
buttons and status line in step, and turns a failed or cancelled end into a plain message.

Progress events of one job are coalesced: a panel sees at most one ``progressed`` per
:data:`PROGRESS_INTERVAL_MS` (the newest event, with every metric point still delivered in
``points``), so a fast job cannot keep the main thread busy redrawing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from engine.store.jobs import SUCCEEDED
from gui.widgets.messages import for_window
from gui.widgets.status import show_status

LONG_JOB_S = 30.0  # a job that ran this long earns a desktop notification when it ends
PROGRESS_INTERVAL_MS = 100


def decoded_row(row: dict) -> dict:
    """A finished job's row with its ``result`` as a dict (never a JSON string)."""
    result = row.get("result")
    if isinstance(result, str):
        try:
            result = json.loads(result)
        except ValueError:
            result = {"text": result}
    return {**row, "result": result or {}}


def end_message(what: str, row: dict) -> str:
    """``"Cleaning failed: <why>"`` in the window's own words (empty for a success)."""
    state = row.get("state")
    if state == SUCCEEDED:
        return ""
    why = for_window(row.get("error"))
    return f"{what} {state}" + (f": {why}" if why else ".")


class JobController(QObject):
    """Starts and follows every job of the window.

    Signals:
        job_started(job_id, kind, project_id): a job was submitted from this window.
        job_progressed(job_id, event): a (coalesced) progress event.
        job_finished(job_id, row): a job reached a final state (``result`` decoded).
        long_job_ended(job_id, row, seconds): a job that ran at least :data:`LONG_JOB_S`
            ended (the window shows a desktop notification).
    """

    job_started = Signal(int, str, object)
    job_progressed = Signal(int, dict)
    job_finished = Signal(int, dict)
    long_job_ended = Signal(int, dict, float)

    def __init__(self, bridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._started_at: dict[int, float] = {}
        self._pending: dict[int, dict] = {}
        self._points: dict[int, list[dict]] = {}
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(PROGRESS_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush)
        bridge.job_progressed.connect(self._on_job_progressed)
        bridge.job_finished.connect(self._on_job_finished)

    def submit(self, kind: str, params: dict | None = None,
               project_id: int | None = None) -> int:
        """Start a job in a child process; returns its id."""
        job_id = self.bridge.submit(kind, params or {}, project_id)
        self._started_at[job_id] = time.monotonic()
        self.job_started.emit(job_id, kind, project_id)
        return job_id

    def cancel(self, job_id: int) -> None:
        """Ask a job to stop (its process is killed after the runner's grace time)."""
        self.bridge.cancel(job_id)

    def running(self) -> list[int]:
        """Ids of the jobs this window still supervises."""
        return self.bridge.running()

    def follow(self, parent: QObject | None = None) -> "PanelJob":
        """A new :class:`PanelJob` for one panel."""
        return PanelJob(self, parent)

    @Slot(int, dict)
    def _on_job_progressed(self, job_id: int, event: dict) -> None:
        if event.get("metrics"):
            self._points.setdefault(job_id, []).append(
                {"step": event.get("step") or 0, **event["metrics"]})
        self._pending[job_id] = event
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    @Slot()
    def _flush(self) -> None:
        pending, points = self._pending, self._points
        self._pending, self._points = {}, {}
        for job_id, event in pending.items():
            self.job_progressed.emit(job_id, {**event, "points": points.get(job_id, [])})

    @Slot(int, dict)
    def _on_job_finished(self, job_id: int, row: dict) -> None:
        if job_id in self._pending:
            self._flush()
        row = decoded_row(row)
        self.job_finished.emit(job_id, row)
        started = self._started_at.pop(job_id, None)
        if started is not None and time.monotonic() - started >= LONG_JOB_S:
            self.long_job_ended.emit(job_id, row, time.monotonic() - started)


class PanelJob(QObject):
    """The one job a panel follows: buttons, cancel and status line kept in step.

    Set :attr:`busy_widgets` (disabled while the job runs), :attr:`cancel_button` (enabled
    while it runs) and :attr:`status_label` (progress and end messages); all optional.

    Signals:
        progressed(event): the followed job's newest progress (``points``: every metric
            point since the last one).
        finished(row): the followed job ended, whatever its state (``result`` decoded).
        succeeded(result): the followed job succeeded.
        failed(message): the followed job failed or was cancelled; the message says why.
    """

    progressed = Signal(dict)
    finished = Signal(dict)
    succeeded = Signal(dict)
    failed = Signal(str)

    def __init__(self, controller: JobController | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.job_id: int | None = None
        self.what = "Job"
        self.busy_widgets: list[QWidget] = []
        self.cancel_button: QAbstractButton | None = None
        self.status_label: QLabel | None = None
        self.describe_progress: Callable[[dict], str] | None = default_progress_text
        if controller is not None:
            controller.job_progressed.connect(self._on_job_progressed)
            controller.job_finished.connect(self._on_job_finished)

    @property
    def running(self) -> bool:
        """Whether the followed job is still running."""
        return self.job_id is not None

    def start(self, kind: str, params: dict, project_id: int | None, what: str,
              status: str = "") -> int:
        """Submit a job and follow it; ``what`` names it in messages ("Cleaning").

        Raises:
            RuntimeError: when the panel was built without a job runner.
        """
        if self.controller is None:
            raise RuntimeError("this panel has no job runner")
        self.what = what
        self.job_id = self.controller.submit(kind, params, project_id)
        self._set_busy(True)
        self.say(status or f"{what}…")
        return self.job_id

    def cancel(self, status: str = "Cancelling…") -> int | None:
        """Ask the followed job to stop; returns its id (None when nothing runs)."""
        if self.job_id is None:
            return None
        self.controller.cancel(self.job_id)
        self.say(status)
        return self.job_id

    def forget(self) -> None:
        """Stop following (another project is shown); the job itself keeps running."""
        self.job_id = None
        self._set_busy(False)

    def say(self, text: str, error: bool = False) -> None:
        """Show a line on the status label, if the panel gave one."""
        if self.status_label is not None and text:
            show_status(self.status_label, text, error)

    def _set_busy(self, busy: bool) -> None:
        for widget in self.busy_widgets:
            widget.setEnabled(not busy)
        if self.cancel_button is not None:
            self.cancel_button.setEnabled(busy)

    @Slot(int, dict)
    def _on_job_progressed(self, job_id: int, event: dict) -> None:
        if job_id != self.job_id:
            return
        if self.describe_progress is not None:
            self.say(self.describe_progress(event))
        self.progressed.emit(event)

    @Slot(int, dict)
    def _on_job_finished(self, job_id: int, row: dict) -> None:
        if job_id != self.job_id:
            return
        self.job_id = None
        self._set_busy(False)
        message = end_message(self.what, row)
        if message:
            self.say(message, error=True)
        self.finished.emit(row)
        if message:
            self.failed.emit(message)
        else:
            self.succeeded.emit(row["result"])


def default_progress_text(event: dict) -> str:
    """``"stage: message"`` of a progress event (``"step 3/10"`` when it has no message)."""
    stage, message = event.get("stage") or "", event.get("message") or ""
    if not message and event.get("total"):
        message = f"step {event.get('step')}/{event.get('total')}"
    return f"{stage}: {message}" if stage else message


def controller_for(source) -> JobController | None:
    """The window's one controller for ``source``: a controller itself, or the one that
    belongs to an :class:`~gui.bridge.EngineBridge` (made on first use); None stays None."""
    if source is None or isinstance(source, JobController):
        return source
    controller = getattr(source, "_job_controller", None)
    if controller is None:
        controller = JobController(source, parent=source)
        source._job_controller = controller
    return controller


def follow_jobs(source, parent: QObject | None = None) -> PanelJob:
    """A :class:`PanelJob` on the controller of ``source`` (a controller, a bridge, or None
    for a panel that only shows results)."""
    return PanelJob(controller_for(source), parent)
