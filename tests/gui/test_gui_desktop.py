"""Desktop manners of the real window: menus and shortcuts, remembered state, title,
notifications, project folder, accessible names, small screens."""

from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QKeySequence

from engine import paths
from engine.store import projects
from gui import jobs as gui_jobs
from gui.app import create_main_window
from gui.widgets.accessible import unnamed_inputs


def _menu_titles(window) -> list[str]:
    return [a.text().replace("&", "") for a in window.menuBar().actions()]


def test_menu_bar_with_the_usual_shortcuts(window):
    assert _menu_titles(window) == ["File", "Edit", "View", "Help"]
    actions = window.actions_by_name
    assert actions["newProjectAction"].shortcut() == QKeySequence(QKeySequence.New)
    assert actions["newProjectAction"].shortcut().toString() == "Ctrl+N"
    assert actions["importAction"].shortcut().toString() == "Ctrl+O"
    assert actions["quitAction"].shortcut() == QKeySequence(QKeySequence.Quit)
    assert actions["helpAction"].shortcut().toString() == "F1"
    actions["newProjectAction"].trigger()
    assert window.new_project_dialog.isVisible()
    window.new_project_dialog.reject()
    actions["helpAction"].trigger()
    assert "Teach the model" in window.help_dialog.browser.toPlainText()
    assert "Learning speed" in window.help_dialog.browser.toPlainText()
    window.help_dialog.reject()


def test_import_without_a_project_says_what_to_do(window):
    window.actions_by_name["importAction"].setEnabled(True)
    window.import_data()
    assert "Create or select a project" in window.statusBar().currentMessage()


def test_title_names_the_project_and_the_folder_opens(window, db, enclave_home):
    pid = projects.create(db, "Ward 4 letters")
    window.refresh_projects()
    window.open_project(pid)
    assert window.windowTitle() == "Ward 4 letters — Enclave"
    folder = window.open_project_folder()
    assert folder == paths.project_dir(pid) and Path(folder).is_dir()
    assert enclave_home in Path(folder).parents


def test_window_remembers_size_splitter_project_and_details(qtbot, window, db, enclave_home):
    pid = projects.create(db, "Remembered")
    window.refresh_projects()
    window.open_project(pid)
    window.resize(1100, 700)
    window.splitter.setSizes([300, 800])
    window.set_details(True)
    sizes = window.splitter.sizes()
    window.close()
    assert (enclave_home / "window.ini").is_file()  # inside the test's workspace
    again = create_main_window(paths.workspace_db())
    qtbot.addWidget(again)
    try:
        again.show()
        assert again.size() == QSize(1100, 700)
        assert again.splitter.sizes() == sizes
        assert again.current_project_id() == pid
        assert again.details_shown()
    finally:
        again.bridge.shutdown(0.5)


def test_a_long_job_ending_is_notified(qtbot, window, db, monkeypatch):
    monkeypatch.setattr(gui_jobs, "LONG_JOB_S", 0.0)
    pid = projects.create(db, "Night run")
    window.refresh_projects()
    window.open_project(pid)
    with qtbot.waitSignal(window.notified, timeout=30_000) as told:
        window.project_panel.submit("test.count", {"n": 3, "delay": 0.01})
    assert told.args[0].startswith("A job finished")
    assert "Night run" in told.args[1]


def test_every_input_has_an_accessible_name_or_a_buddy_label(window, db):
    pid = projects.create(db, "Named")
    window.refresh_projects()
    window.open_project(pid)
    window.set_details(True)
    window.hide()
    window.show()  # names are given when the window is shown
    missing = [f"{type(w).__name__} in {type(w.parentWidget()).__name__} "
               f"(tooltip {w.toolTip()[:40]!r})" for w in unnamed_inputs(window)]
    assert missing == []


@pytest.mark.parametrize("size", [(1024, 640), (1280, 800)])
def test_fits_small_screens(qtbot, window, db, size, tmp_path):
    from gui.screenshot import render

    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640, hint
    pid = projects.create(db, "Small screen")
    window.refresh_projects()
    window.open_project(pid)
    window.resize(*size)
    qtbot.wait(20)
    assert (window.width(), window.height()) == size
    assert render(window, tmp_path / f"window-{size[0]}.png").stat().st_size > 10_000
