"""GUI tests run offscreen on a throw-away workspace and fail on leftover jobs."""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any Qt import

import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from engine import paths  # noqa: E402
from engine.store import open_store  # noqa: E402

# Helpers of this folder (visible_text) import by name under --import-mode=importlib.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def enclave_home(tmp_path, monkeypatch):
    """Point the workspace at a fresh folder: no test touches a user's data."""
    home = tmp_path / "enclave-home"
    monkeypatch.setenv("ENCLAVE_HOME", str(home))
    return home


@pytest.fixture
def db(enclave_home):
    """The test workspace store (created and migrated)."""
    return open_store(paths.workspace_db())


@pytest.fixture
def window(qtbot, db):
    """The main window on the test workspace; fails the test if a job is left running."""
    from gui.app import application, create_main_window

    application()
    win = create_main_window(paths.workspace_db())
    qtbot.addWidget(win)
    win.show()
    yield win
    leftover = win.bridge.running()
    win.bridge.shutdown(grace_s=0.5)
    if leftover:
        pytest.fail(f"test left job(s) {leftover} running; wait for them or cancel them")


@pytest.fixture(autouse=True)
def _no_dangling_job_threads():
    """Like napari's dangling-thread check: no job supervisor may outlive a test."""
    before = {t.ident for t in threading.enumerate()}
    yield
    dangling = [t.name for t in threading.enumerate()
                if t.ident not in before and t.name.startswith("job-") and t.is_alive()]
    if dangling:
        pytest.fail(f"job supervisor thread(s) still running after the test: {dangling}")
