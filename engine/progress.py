"""Progress events and cooperative cancel, shared by every stage function.

A stage is a plain function that takes a :class:`Reporter`. It calls
``reporter.report(...)`` as it goes and ``reporter.check_cancel()`` at safe
points; the job runner turns the events into store rows and GUI signals.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable


class Cancelled(Exception):
    """Raised inside a stage when the user asked it to stop."""


@dataclass
class Progress:
    """One progress event of a stage."""

    stage: str
    step: int
    total: int
    message: str = ""
    metrics: dict = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        return asdict(self)


Sink = Callable[[Progress], None]


class Reporter:
    """Hands progress to a sink and answers "was I asked to stop?".

    Args:
        sink: receives every event; a list's ``append`` works in tests.
        stop_requested: returns True once cancel was asked for.
        stage: default stage name for events.
    """

    def __init__(
        self,
        sink: Sink | None = None,
        stop_requested: Callable[[], bool] | None = None,
        stage: str = "",
    ) -> None:
        self._sink = sink
        self._stop = stop_requested or (lambda: False)
        self.stage = stage

    def report(self, step: int, total: int, message: str = "", stage: str | None = None,
               **metrics: float) -> None:
        """Send one event to the sink."""
        if self._sink is not None:
            self._sink(Progress(stage or self.stage, step, total, message, dict(metrics)))

    def check_cancel(self) -> None:
        """Raise :class:`Cancelled` when a stop was requested."""
        if self._stop():
            raise Cancelled(f"{self.stage or 'job'} cancelled")

    def tee(self, listener: Sink) -> "Reporter":
        """The same reporter, also handing every event to ``listener`` first."""
        sink = self._sink

        def both(event: Progress) -> None:
            listener(event)
            if sink is not None:
                sink(event)

        return Reporter(both, self._stop, self.stage)

    def for_stage(self, stage: str) -> "Reporter":
        """The same sink and stop flag, under another stage name."""
        return Reporter(self._sink, self._stop, stage)


def null_reporter() -> Reporter:
    """A reporter that discards events and never cancels."""
    return Reporter()
