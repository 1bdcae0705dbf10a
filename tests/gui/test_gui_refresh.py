"""Panels stay current: whatever job ends, every panel shows what the store now holds
(the open one at once, the others when shown)."""

import json

from engine.store import datasets, evaluations, jobs, projects, runs


def _panels(window) -> dict:
    return {"Overview": window.project_panel, **dict(window.stage_panels)}


def _finish_a_job(qtbot, window, project_id) -> None:
    with qtbot.waitSignal(window.bridge.job_finished, timeout=30_000):
        window.bridge.submit("test.count", {"n": 2, "delay": 0.01}, project_id)


def test_every_panel_reloads_when_any_job_ends(qtbot, window, db, tmp_path):
    pid = projects.create(db, "Ward refresh")
    window.refresh_projects()
    window.open_project(pid)
    panels = _panels(window)
    assert panels["Review"].position_label.text() == "No evaluation yet"
    assert panels["Selection"].dataset_combo.count() == 0
    data = datasets.add_version(db, pid, "ward-notes", "import", [{"prompt": "a"}], ["h"],
                                role="pool")
    job_id = jobs.create(db, "train", {}, pid)
    jobs.finish(db, job_id, "succeeded")
    train = runs.create(db, pid, "train", "lora on ward-notes",
                        {"dataset_id": data, "train": {"method": "lora"}}, job_id)
    (tmp_path / "adapter").mkdir()
    runs.add_artifact(db, pid, "lora-adapter", tmp_path / "adapter", train)
    runs.log_metric(db, train, "loss", 1, 2.0)
    runs.set_summary(db, train, {"loss_start": 2.0, "loss_end": 1.5})
    evaluation = runs.create(db, pid, "evaluate", f"evaluate run {train}")
    runs.set_summary(db, evaluation, {"source_run": train, "items": 1, "test": "t v1"})
    evaluations.add_outputs(db, evaluation, [{"item": 0, "side": s, "prompt": "How often?",
                                              "output": s} for s in ("base", "tuned")])

    _finish_a_job(qtbot, window, pid)

    # a hidden tab reloads when it is shown (the end of a job reads only the open one)
    assert panels["Selection"].dataset_combo.count() == 0
    for panel in panels.values():
        window.show_panel(panel)
    assert panels["Selection"].dataset_combo.currentData() == data
    assert panels["Review"].position_label.text() == "Item 1 of 1"
    assert panels["Review"].prompt_label.text() == "How often?"
    assert panels["Evaluate"].train_combo.currentData() == train
    assert panels["Evaluate"].run_combo.currentData() == evaluation
    assert panels["Compress"].selected_run() == train
    assert panels["Training"].runs_table.rowCount() == 1
    assert panels["Training"].dpo_options.start_combo.findData(train) > 0
    headline = panels["Overview"].results.ppl_label.text()
    assert "demo" not in headline and f"training run {train}" in headline
    assert len(panels["Overview"].results.loss_points) == 1


def test_the_overview_names_what_the_project_has(qtbot, window, db):
    pid = projects.create(db, "Ward overview")
    window.refresh_projects()
    window.open_project(pid)
    assert "Guided path" in window.project_panel.results.ppl_label.text()
    run_id = runs.create(db, pid, "train", "lora on notes")
    runs.log_metric(db, run_id, "loss", 1, 2.5)
    window.project_panel.refresh()
    text = window.project_panel.results.ppl_label.text()
    assert "run the demo" not in text and "Evaluate tab" in text


def test_selection_runs_on_the_dataset_the_box_shows(qtbot, window, db, monkeypatch):
    pid = projects.create(db, "Ward select")
    first = datasets.add_version(db, pid, "notes", "import", [{"prompt": "a"}], ["h"],
                                 role="pool")
    newer = datasets.add_version(db, pid, "notes", "import", [{"prompt": "b"}], ["i"],
                                 role="pool")
    window.refresh_projects()
    window.open_project(pid)
    panel = _panels(window)["Selection"]
    assert [panel.dataset_combo.itemData(i) for i in range(panel.dataset_combo.count())] \
        == [newer, first]
    assert panel.dataset_combo.itemText(0).startswith("notes v2")
    submitted = []
    monkeypatch.setattr(window.bridge, "submit",
                        lambda kind, params, project_id: submitted.append(params) or 99)
    panel.dataset_combo.setCurrentIndex(1)
    assert panel.run_selection() == 99
    assert submitted[0]["dataset_id"] == first
    assert json.dumps(submitted[0])  # what the job stores


def test_selection_without_data_says_where_to_import(qtbot, window, db):
    pid = projects.create(db, "Ward no data")
    window.refresh_projects()
    window.open_project(pid)
    panel = _panels(window)["Selection"]
    assert panel.run_selection() is None
    assert "Data tab" in panel.status_label.text()
