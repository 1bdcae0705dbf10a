"""The quick demo started from the window: one run cancelled, another run to its results."""

import pytest

from engine.store import projects


@pytest.mark.slow
def test_quick_demo_from_window_cancel_one_and_see_results_of_another(qtbot, window, db):
    project_id = projects.create(db, "Ward demo")
    window.open_project(project_id)
    panel = window.project_panel

    with qtbot.waitSignal(panel.job_finished, timeout=120_000) as cancelled:
        first = panel.run_demo(quick=True)
        qtbot.waitUntil(lambda: panel.jobs_model.row_of(first) >= 0, timeout=10_000)
        panel.cancel_job(first)
    assert cancelled.args[0] == first and cancelled.args[1]["state"] == "cancelled"

    with qtbot.waitSignal(panel.job_finished, timeout=900_000) as finished:
        second = panel.run_demo(quick=True)
    row = finished.args[1]
    assert finished.args[0] == second and row["state"] == "succeeded", row.get("error")

    summary = row["result"]
    assert summary["ppl_tuned"] < summary["ppl_base"]
    assert len(panel.results.loss_points) == summary["train_steps"]
    shown = panel.results.perplexity_card.values["ppl_tuned"].text()
    assert shown == f"{summary['ppl_tuned']:.2f}"
