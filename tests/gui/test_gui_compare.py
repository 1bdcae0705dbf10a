"""Compare tab: ticked runs overlaid, best values starred, differing settings highlighted,
trials ranked."""

import os
from pathlib import Path

from PySide6.QtCore import Qt

from engine.store import jobs, projects, runs
from gui.panels.compare import DIFFERENT, ComparePanel
from gui.screenshot import render


def _trial(db, project_id, number, lr, eval_loss, loss_end, state="succeeded"):
    job_id = jobs.create(db, "train", {}, project_id)
    jobs.finish(db, job_id, state)
    run_id = runs.create(db, project_id, "train", f"search trial {number}",
                         {"base": "smollm2", "dataset_id": 1,
                          "train": {"method": "lora", "learning_rate": lr, "max_steps": 40}},
                         job_id)
    runs.set_summary(db, run_id, {"eval_loss": eval_loss, "loss_end": loss_end, "steps": 40,
                                  "seconds": 60.0 + number, "tokens_per_s": 900.0 - number})
    for step in range(1, 41, 3):
        runs.log_metric(db, run_id, "loss", step, loss_end + 2.0 * (40 - step) / 40 * (1 + lr * 1e3))
    for step in (10, 20, 30, 40):
        runs.log_metric(db, run_id, "eval_loss", step, eval_loss + (40 - step) / 40)
    return run_id


def test_ticked_runs_are_overlaid_marked_and_ranked(qtbot, db, tmp_path):
    from gui.app import application

    application()
    project_id = projects.create(db, "Ward search")
    ids = [_trial(db, project_id, n, lr, ev, end) for n, (lr, ev, end) in
           enumerate([(1e-4, 2.6, 2.3), (2e-4, 2.2, 2.1), (5e-4, 2.4, 1.9)], start=1)]
    panel = ComparePanel(db)
    qtbot.addWidget(panel)
    panel.resize(1180, 760)
    panel.show()
    panel.set_project(project_id)
    assert panel.run_list.count() == 3 and panel.ticked_runs() == []
    assert "Tick two or more" in panel.hint_label.text()
    with qtbot.waitSignal(panel.compared) as shown:
        panel.run_list.item(2).setCheckState(Qt.Checked)  # the oldest run, listed last
    assert shown.args[0] == [ids[0]]
    qtbot.mouseClick(panel.all_button, Qt.LeftButton)
    assert panel.ticked_runs() == ids
    assert len(panel.plot.getPlotItem().listDataItems()) == 6  # loss + eval loss per run
    headers = [title for _key, title in panel.figure_columns()]
    assert headers[-1] == "learning rate" and "eval loss" in headers
    table = panel.figures_table
    eval_column = headers.index("eval loss")
    starred = [table.item(r, eval_column).text() for r in range(3)]
    assert starred == ["2.6", "★ 2.2", "2.4"]
    assert table.item(0, len(headers) - 1).background().color() == DIFFERENT
    ranked = panel.ranked_table
    assert [ranked.item(r, 1).text() for r in range(3)] == [str(ids[1]), str(ids[2]), str(ids[0])]
    assert ranked.item(0, 0).text() == "1 ★"
    render(panel, Path(os.environ.get("ENCLAVE_SCREENSHOT_DIR", tmp_path)) / "compare.png")
    panel.refresh()
    assert panel.ticked_runs() == ids  # ticks survive a refresh (a job ended)
