"""Training panel: form from the recipe's fields, live curves from progress events, runs table."""

import math

from PySide6.QtWidgets import QHeaderView

from engine.store import datasets, projects, runs
from gui.panels.training import RUN_COLUMNS, TrainingPanel
from gui.screenshot import render


def _project_with_runs(db) -> int:
    project_id = projects.create(db, "Ward training")
    records = [{"prompt": f"q{i}", "response": f"a{i}"} for i in range(40)]
    datasets.add_version(db, project_id, "clinical-coreset", "select", records,
                         [str(i) for i in range(40)], role="train")
    for index, (lr, end) in enumerate(((2e-4, 1.21), (1e-4, 1.34))):
        recipe = {"base": "smollm2", "dataset_id": 1,
                  "train": {"method": "lora", "learning_rate": lr, "batch_size": 4}}
        run_id = runs.create(db, project_id, "train", f"lora lr={lr}", recipe)
        for step in range(1, 61):
            loss = end + 1.6 * math.exp(-step / (14 + 6 * index))
            runs.log_metric(db, run_id, "loss", step, loss + 0.05 * math.sin(step))
            runs.log_metric(db, run_id, "lr", step, lr * min(1, step / 6) * (1 - step / 70))
            runs.log_metric(db, run_id, "tokens_per_s", step, 410 + 15 * math.sin(step / 5))
            if step % 10 == 0:
                runs.log_metric(db, run_id, "eval_loss", step, loss + 0.12)
        runs.set_summary(db, run_id, {"steps": 60, "loss_end": end, "eval_loss": end + 0.12,
                                      "tokens_per_s": 412.0})
    return project_id


def test_form_builds_the_recipe_and_names_bad_fields(qtbot, db):
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    panel.inputs["method"].setCurrentText("full")
    assert panel.recipe().method == "full" and panel.recipe().learning_rate == 2e-5
    assert "learning rate" in panel.inputs["learning_rate"].toolTip().lower()
    panel.inputs["batch_size"].setText("0")
    try:
        panel.recipe()
    except ValueError as exc:
        assert "batch_size must be >= 1" in str(exc)
    else:
        raise AssertionError("batch 0 accepted")


def test_progress_events_draw_curves_and_eta(qtbot, db):
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    panel.job.job_id = 7
    metrics = [{"loss": 2.0 / step, "lr": 1e-4, "tokens_per_s": 300.0, "eta_s": 120.0}
               for step in (1, 2, 3)]
    panel.job._on_job_progressed(7, {"step": 1, "total": 10, "message": "",
                                     "metrics": metrics[0]})
    # coalesced delivery: the newest event carries every point since the last one
    panel.job._on_job_progressed(7, {"step": 3, "total": 10, "message": "",
                                     "metrics": metrics[2],
                                     "points": [{"step": 2, **metrics[1]},
                                                {"step": 3, **metrics[2]}]})
    # live curves are redrawn at most twice a second
    qtbot.waitUntil(lambda: panel.lines["loss"].getData()[1] is not None
                    and len(panel.lines["loss"].getData()[1]) == 3, timeout=2_000)
    assert panel.lines["loss"].getData()[1].tolist() == [2.0, 1.0, 2.0 / 3]
    assert "Step 3/10" in panel.status_label.text() and "2.0 min left" in panel.status_label.text()


def test_runs_table_and_screenshot(qtbot, db, tmp_path):
    project_id = _project_with_runs(db)
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.open_project(project_id)
    assert panel.runs_table.rowCount() == 2
    assert panel.dataset_combo.currentText().startswith("clinical-coreset v1")
    panel.runs_table.selectRow(1)
    assert len(panel.lines["loss"].getData()[0]) == 60
    panel.estimate_label.setText("Memory estimate (fits): about 3,915 MB of 24,106 MB "
                                 "available (weights 513 MB, gradients 4 MB, optimizer 7 MB, "
                                 "activations 2,691 MB, runtime 700 MB).")
    panel.show()
    qtbot.wait(50)
    path = render(panel, tmp_path / "training.png")
    assert path.stat().st_size > 10_000


def test_a_long_run_draws_as_many_points_as_the_chart_is_wide(qtbot, db):
    """A live chart's paint costs the main thread in proportion to the points it draws:
    20,000 steps are thinned to a few points per pixel of the chart (peak downsampling, so
    spikes stay visible), drawn without anti-aliasing."""
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    panel.resize(1280, 800)
    panel.show()
    panel.job.job_id = 7
    points = [{"step": s, "loss": 2.0 + math.sin(s), "lr": 1e-4, "tokens_per_s": 300.0}
              for s in range(1, 20_001)]
    panel.job._on_job_progressed(7, {"step": 20_000, "total": 20_000, "message": "",
                                     "metrics": points[-1], "points": points})
    panel.charts.redraw()
    qtbot.wait(20)
    for name in ("loss", "lr", "tokens_per_s"):
        line = panel.lines[name]
        drawn = line.curve.getData()[0]
        width = line.getViewBox().width()
        assert 0 < len(drawn) <= 10 * width < 5_000, (name, len(drawn), width)
        assert line.opts["antialias"] is False
    spikes = panel.lines["loss"].curve.getData()[1]
    assert max(spikes) > 2.99 and min(spikes) < 1.01  # peaks kept, not averaged away


def test_the_runs_table_is_sized_once_per_fill(qtbot, db):
    """Columns sized to their contents at every new cell held the main thread for over a
    second for 60 runs at each training job's end (bench/bench_gui_latency.py); the table
    is now sized once at the end of a fill, and its columns still fit their text."""
    project_id = projects.create(db, "Many runs")
    for index in range(60):
        run_id = runs.create(db, project_id, "train", f"lora run {index}",
                             {"train": {"method": "lora", "learning_rate": 1e-4}})
        runs.set_summary(db, run_id, {"steps": 60, "loss_end": 1.2345, "tokens_per_s": 412.0})
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    panel.resize(1280, 800)
    panel.show()
    panel.set_project(project_id)
    table, header = panel.runs_table, panel.runs_table.horizontalHeader()
    assert table.rowCount() == 60
    assert all(header.sectionResizeMode(c) != QHeaderView.ResizeToContents
               for c in range(len(RUN_COLUMNS)))
    width = table.fontMetrics().horizontalAdvance("1.234")
    assert table.item(0, 6).text() == "1.234" and table.columnWidth(6) >= width
    assert sum(header.sectionSize(c) for c in range(header.count())) == \
        table.viewport().width()  # the name column takes the width left over
