"""A job runner on the test's workspace, shut down (nothing left running) after the test."""

from __future__ import annotations

import pytest

from engine import paths
from engine.jobs.runner import JobRunner
from engine.store import open_store


@pytest.fixture
def runner():
    open_store(paths.workspace_db())
    runner = JobRunner(paths.workspace_db())
    yield runner
    runner.shutdown(grace_s=1)
    assert runner.running() == []
