"""Jobs run from the project panel: live progress, cancel, errors, results."""

import math

import pytest
from PySide6.QtCore import Qt

from engine.store import jobs, projects, runs
from gui.widgets.jobs_table import COLUMNS, PROGRESS_ROLE


@pytest.fixture
def panel(window, db):
    project_id = projects.create(db, "Selftests")
    window.open_project(project_id)
    window.show_panel(window.project_panel)  # a project opens on its guided path
    return window.project_panel


def _cell(panel, job_id, column, role=Qt.DisplayRole):
    model = panel.jobs_model
    return model.data(model.index(model.row_of(job_id), COLUMNS.index(column)), role)


def test_progress_bar_advances_until_done(qtbot, panel):
    seen = []
    panel.job_row_updated.connect(
        lambda job_id: seen.append(_cell(panel, job_id, "Progress", PROGRESS_ROLE)))
    with qtbot.waitSignal(panel.job_finished, timeout=20_000) as finished:
        job_id = panel.submit("test.count", {"n": 30, "delay": 0.05})

    assert finished.args[0] == job_id and finished.args[1]["state"] == "succeeded"
    partial = sorted({p for p in seen if 0 < p < 100})
    assert len(partial) >= 2, seen
    assert [p for p in seen if p >= 0] == sorted(p for p in seen if p >= 0)
    assert _cell(panel, job_id, "Progress", PROGRESS_ROLE) == 100
    assert _cell(panel, job_id, "State") == "succeeded"


def test_cancel_button_stops_a_running_job(qtbot, panel):
    with qtbot.waitSignal(panel.job_row_updated, timeout=20_000,
                          check_params_cb=lambda job_id: (
                              _cell(panel, job_id, "Progress", PROGRESS_ROLE) or 0) > 0):
        job_id = panel.submit("test.count", {"n": 2000, "delay": 0.05})
    assert panel.cancel_button.isEnabled()
    assert not panel.quick_demo_button.isEnabled()

    with qtbot.waitSignal(panel.job_finished, timeout=20_000) as finished:
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)

    assert finished.args[0] == job_id
    assert _cell(panel, job_id, "State") == "cancelled"
    assert not panel.cancel_button.isEnabled()
    assert panel.quick_demo_button.isEnabled()


def test_failed_job_shows_its_error_in_red(qtbot, panel):
    with qtbot.waitSignal(panel.job_finished, timeout=20_000) as finished:
        job_id = panel.submit("test.crash", {"message": "line 3: field 'text' is empty"})

    assert finished.args[1]["state"] == "failed"
    label = panel.error_label
    assert label.isVisible()
    assert "line 3: field 'text' is empty" in label.text()
    assert f"Job {job_id}" in label.text()
    assert label.textInteractionFlags() & Qt.TextSelectableByMouse
    assert "field 'text' is empty" in _cell(panel, job_id, "Error")
    assert _cell(panel, job_id, "Error", Qt.ForegroundRole).name() == "#b3261e"


def test_results_of_a_stored_training_run_are_shown(window, db):
    project_id = projects.create(db, "Trained")
    job_id = jobs.create(db, "demo", {"quick": True}, project_id)
    summary = {"ppl_base": 20.0, "ppl_tuned": 10.0, "ppl_tuned_8bit": 10.5,
               "size_base_mb": 513.0, "size_tuned_mb": 513.0, "size_tuned_8bit_mb": 160.25,
               "records_in": 1200, "selected": 200, "wall_s": 75.0}
    jobs.finish(db, job_id, "succeeded", result=summary)
    run_id = runs.create(db, project_id, "train", "lora", job_id=job_id)
    for step in range(1, 11):
        runs.log_metric(db, run_id, "loss", step, 3.0 * math.exp(-step / 5))
    runs.set_summary(db, run_id, summary)

    window.open_project(project_id)
    results = window.project_panel.results

    assert [s for s, _ in results.loss_points] == list(range(1, 11))
    assert results.perplexity_card.values["ppl_tuned"].text() == "10.00"
    assert results.size_card.values["size_tuned_8bit_mb"].text() == "160.2"
    assert results.size_card.values["wall_s"].text() == "1 min 15 s"
    assert results.data_card.values["records_in"].text() == "1,200"
    assert "20.00 → 10.00" in results.ppl_label.text()
    assert results.ppl_bars is not None
