"""The guided path, through the real window: plain steps, presets, estimates, Details."""

import json

from PySide6.QtCore import Qt

from engine.store import jobs, projects, runs
from gui import guide_presets as presets
from gui.terms import TERMS, explain, label


def _notes(path, count=60):
    rows = [{"prompt": f"Ward {i % 7}: how often should the dressing on wound {i} be changed?",
             "response": f"Change it every {i % 3 + 1} days, or sooner when wet."}
            for i in range(count)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def test_a_new_project_opens_on_bring_data_never_on_the_demo(qtbot, window):
    window.create_project("Discharge letters")
    guide = window.guide
    assert window.tabs.currentWidget().widget() is guide
    assert guide.current_step().key == "data"
    assert guide.action_button.text() == "Choose a file…"
    assert guide.action_button.objectName() == "primary"
    overview = window.project_panel
    assert not overview.quick_demo_button.isVisibleTo(overview)
    assert not overview.demo_button.isVisibleTo(overview)
    visible_tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())
                    if window.tabs.isTabVisible(i)]
    assert visible_tabs[:2] == ["Guided path", "Overview"]
    assert "Training" not in visible_tabs and "Data" not in visible_tabs


def test_import_and_clean_through_the_guide(qtbot, window, tmp_path):
    window.create_project("Wound care")
    guide = window.guide
    with qtbot.waitSignal(window.jobs.job_finished, timeout=60_000) as done:
        assert guide.import_file(str(_notes(tmp_path / "notes.jsonl"))) is not None
    assert done.args[1]["state"] == "succeeded"
    assert guide.current_step().key == "clean"  # moved on by itself
    assert guide.step_list.item(0).text().startswith("1. ✓")
    assert guide.records() == 54  # 60 less the held-out test split
    assert "Takes:" in guide.estimate_text(guide.current_step())
    guide.choose_preset("Quick")
    assert "exact copies only" in guide.preset_label.text()
    with qtbot.waitSignal(window.jobs.job_finished, timeout=120_000) as done:
        qtbot.mouseClick(guide.action_button, Qt.LeftButton)
    assert done.args[1]["state"] == "succeeded", done.args[1].get("error")
    assert guide.current_step().key == "select"
    assert guide.done["clean"]
    # the import's own speed now drives its estimate
    assert "measured on this computer" in guide.estimate_text(
        next(s for s in guide_steps() if s.key == "data"))


def guide_steps():
    from gui.panels.guide import STEPS
    return STEPS


def test_details_shows_the_expert_form_of_the_step(qtbot, window):
    window.create_project("Ward rota")
    guide = window.guide
    guide.step_list.setCurrentRow(3)
    assert guide.current_step().title == "Teach the model"
    assert not guide.action_button.isEnabled()  # no data yet
    qtbot.mouseClick(guide.details_button, Qt.LeftButton)
    assert window.details_shown()
    assert window.tabs.tabText(window.tabs.currentIndex()) == "Training"
    assert window.actions_by_name["detailsAction"].isChecked()
    window.actions_by_name["detailsAction"].trigger()
    assert not window.details_shown()


def test_estimates_use_the_rate_measured_here(db):
    pid = projects.create(db, "Rates")
    job = jobs.create(db, "train", {}, pid)
    jobs.mark_running(db, job, 1)
    jobs.finish(db, job, "succeeded", result={"steps": 10, "seconds": 20.0})
    db["jobs"].update(job, {"started_at": "2026-01-01T10:00:00+00:00",
                            "finished_at": "2026-01-01T10:00:20+00:00"})
    from engine.store import reads
    assert reads.measured_rates(db) == {"train": 2.0}
    plan = presets.plan("Balanced", 400, "cpu")
    seconds, measured = presets.estimate_seconds("train", plan.steps, "cpu", {"train": 2.0})
    assert measured and seconds == presets.STARTUP_S["train"] + plan.steps * 2.0
    rough, measured = presets.estimate_seconds("train", plan.steps, "cpu", {})
    assert not measured and rough > seconds
    assert runs.list_for_project(db, pid) == []


def test_a_job_finished_within_its_first_second_still_gives_a_measured_rate(db):
    """Job times are kept to the second: a quick import starts and ends on the same one."""
    from engine.store import reads
    pid = projects.create(db, "Quick import")
    job = jobs.create(db, "data.import", {}, pid)
    jobs.mark_running(db, job, 1)
    jobs.finish(db, job, "succeeded", result={"records": 100})
    db["jobs"].update(job, {"started_at": "2026-01-01T10:00:00+00:00",
                            "finished_at": "2026-01-01T10:00:00+00:00"})
    assert reads.measured_rates(db) == {"import": 0.5 / 100}  # half the clock's resolution


def test_presets_grow_with_thoroughness_and_the_device():
    quick, balanced, thorough = (presets.plan(p, 2000, "cpu") for p in presets.PRESETS)
    assert quick.chosen < balanced.chosen < thorough.chosen <= 2000
    assert quick.train["epochs"] < thorough.train["epochs"]
    assert quick.evaluate_items < thorough.evaluate_items
    assert presets.plan("Balanced", 2000, "cuda").train["batch_size"] > \
        balanced.train["batch_size"]
    assert presets.plan("Quick", 10, "cpu").chosen == 10  # never more than there is
    assert presets.duration_words(30) == "under a minute"
    assert presets.duration_words(240) == "about 4 minutes"


def test_every_technical_term_has_a_plain_line():
    for name, (plain, line) in TERMS.items():
        assert plain and line.endswith(".") and len(line) < 140, name
    assert label("learning_rate") == "Learning speed"
    assert "memory" in explain("batch_size")
