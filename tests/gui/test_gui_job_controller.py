"""The window's one job controller and its task runner, on real jobs and real threads."""

import threading

import shiboken6
from PySide6.QtWidgets import QLabel, QPushButton

from engine import paths
from engine.store import projects
from gui.bridge import EngineBridge
from gui.jobs import JobController, controller_for, end_message
from gui.tasks import TaskRunner


def _controller(qtbot, db):
    bridge = EngineBridge(paths.workspace_db())
    return bridge, controller_for(bridge)


def test_panel_job_keeps_buttons_in_step_and_reports_success(qtbot, db):
    bridge, controller = _controller(qtbot, db)
    project_id = projects.create(db, "Ward notes")
    follower = controller.follow()
    start, cancel, status = QPushButton("Start"), QPushButton("Cancel"), QLabel()
    follower.busy_widgets, follower.cancel_button, follower.status_label = [start], cancel, status
    seen = []
    follower.progressed.connect(seen.append)
    try:
        with qtbot.waitSignal(follower.succeeded, timeout=20_000) as done:
            follower.start("test.count", {"n": 20, "delay": 0.05}, project_id, "Counting")
            assert not start.isEnabled() and cancel.isEnabled()
        assert start.isEnabled() and not cancel.isEnabled()
        assert seen and all("points" in event for event in seen)
        # progress is coalesced: fewer deliveries than the job's 20 steps
        assert len(seen) < 20
        assert isinstance(done.args[0], dict)
    finally:
        bridge.shutdown(0.5)


def test_cancelled_job_becomes_a_message(qtbot, db):
    bridge, controller = _controller(qtbot, db)
    project_id = projects.create(db, "Ward notes")
    follower = controller.follow()
    follower.status_label = QLabel()
    try:
        with qtbot.waitSignal(follower.progressed, timeout=20_000):
            follower.start("test.count", {"n": 2000, "delay": 0.05}, project_id, "Counting")
        with qtbot.waitSignal(follower.failed, timeout=20_000) as failed:
            follower.cancel()
        assert failed.args[0].startswith("Counting cancelled")
        assert follower.status_label.objectName() == "errorText"
        assert not follower.running
    finally:
        bridge.shutdown(0.5)


def test_end_message_speaks_window_terms():
    row = {"state": "failed", "error": "DataFormatError: notes.jsonl line 3: field 'text' empty"}
    assert end_message("Import", row) == "Import failed: notes.jsonl line 3: field 'text' empty"
    assert end_message("Import", {"state": "succeeded"}) == ""


def test_controller_for_gives_one_controller_per_bridge(qtbot, db):
    bridge = EngineBridge(paths.workspace_db())
    try:
        assert controller_for(bridge) is controller_for(bridge)
        assert isinstance(controller_for(bridge), JobController)
        assert controller_for(None) is None
    finally:
        bridge.shutdown(0.5)


def test_task_runner_runs_off_the_main_thread(qtbot, db):
    runner = TaskRunner()
    main = threading.get_ident()
    got = []
    with qtbot.waitSignal(runner.task_finished, timeout=5_000):
        runner.run_with_store(db, lambda store: (threading.get_ident(),
                                             store["projects"].count), got.append)
    assert got[0][0] != main and got[0][1] == 0
    errors = []
    with qtbot.waitSignal(runner.task_finished, timeout=5_000):
        runner.run(lambda: 1 / 0, got.append, errors.append)
    assert isinstance(errors[0], ZeroDivisionError)
    assert not runner.busy()
    runner.wait()


def test_task_runner_skips_the_callbacks_of_a_deleted_owner(qtbot):
    """A result that arrives after its widget was closed (the window shut meanwhile) is
    dropped instead of touching a deleted widget; the task still counts as finished."""
    runner, label, got = TaskRunner(), QLabel(), []
    release = threading.Event()
    runner.run(lambda: release.wait(5) and "late", got.append, got.append, owner=label)
    shiboken6.delete(label)
    with qtbot.waitSignal(runner.task_finished, timeout=5_000):
        release.set()
    assert got == [] and not runner.busy()
    runner.wait()
