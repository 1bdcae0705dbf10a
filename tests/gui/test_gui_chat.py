"""Chat tab: a tiny model answers through a real job, streamed, sent to Review, stoppable."""

import importlib.util
import json
import os
from pathlib import Path

from engine import paths
from engine.store import jobs, projects, runs
from gui.bridge import EngineBridge
from gui.panels.chat import ChatPanel
from gui.panels.review import ReviewPanel
from gui.screenshot import render


def _tiny_llama(folder: Path) -> Path:
    path = Path(__file__).parents[1] / "engine" / "train" / "tiny_lm.py"
    spec = importlib.util.spec_from_file_location("enclave_tests_tiny_lm_gui_chat", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_llama(folder)


def _redacting_project(db, tmp_path) -> tuple[int, int]:
    model = _tiny_llama(tmp_path / "tiny")
    project_id = projects.create(db, "Ward chat")
    run_id = runs.create(db, project_id, "train", "tiny", {"base_model": str(model)})
    runs.add_artifact(db, project_id, "merged-model", model, run_id)
    runs.create(db, project_id, "data.clean", "clean", {"redaction": "placeholder"})
    return project_id, run_id


def _panel(qtbot, db):
    from gui.app import application

    application()
    bridge = EngineBridge(paths.workspace_db())
    panel = ChatPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1180, 720)
    panel.show()
    return panel, bridge


def test_two_models_answer_side_by_side_streamed_and_go_to_review(qtbot, db, tmp_path):
    project_id, run_id = _redacting_project(db, tmp_path)
    panel, bridge = _panel(qtbot, db)
    panel.set_project(project_id)
    assert panel.run_combo.currentData() == run_id
    assert [panel.side_combo.itemText(i) for i in range(panel.side_combo.count())] == \
        ["base", "tuned"]
    assert panel.side_combo.currentText() == "tuned"
    panel.compare_check.setChecked(True)
    assert panel.chosen_sides() == ["tuned", "base"]
    panel.details_check.setChecked(True)
    assert panel.details_box.isVisible() and "im_start" in panel.template_view.toPlainText()
    panel.tokens_spin.setValue(24)
    panel.temperature_spin.setValue(1.0)  # the untrained tiny model's greedy answer is blank
    seen = []
    panel.job.progressed.connect(lambda event: seen.append((event["stage"], event["message"])))
    panel.prompt_edit.setPlainText("Patient Anna Berg called about her fever. What now?")
    with qtbot.waitSignal(panel.job.finished, timeout=240_000) as finished:
        qtbot.mouseClick(panel.ask_button, qtbot_button())
    assert finished.args[0]["state"] == "succeeded", finished.args[0]["error"]
    assert {side for side, _ in seen} <= {"tuned", "base"} and len(seen) >= 2
    assert any(len(text) > 20 for _, text in seen)  # answers grew while being written
    answers = panel.answers
    assert set(answers) == {"tuned", "base"}
    assert panel.answer_boxes[0].text_edit.toPlainText() == answers["tuned"]
    assert panel.answer_boxes[1].text_edit.toPlainText() == answers["base"]
    assert "Anna" not in panel.asked["prompt"] and "[NAME]" in panel.asked["prompt"]
    assert panel.prompt_edit.toPlainText() == panel.asked["prompt"]  # as the model saw it
    stored = jobs.get(db, finished.args[0]["id"])["params"]
    assert "Anna" not in json.dumps(stored)  # the job row never held the raw name
    render(panel, Path(os.environ.get("ENCLAVE_SCREENSHOT_DIR", tmp_path)) / "chat.png")
    assert panel.review_button.isEnabled(), panel.status_label.text()
    qtbot.mouseClick(panel.review_button, qtbot_button())
    assert panel.review_run_id is not None, panel.status_label.text()
    review = ReviewPanel(db, bridge)
    qtbot.addWidget(review)
    review.set_project(project_id)
    assert review.run_combo.currentData() == panel.review_run_id
    assert "[NAME]" in review.prompt_label.text() and "Anna" not in review.prompt_label.text()
    bridge.shutdown(grace_s=0.5)


def test_stop_cancels_a_long_answer(qtbot, db, tmp_path):
    project_id, _ = _redacting_project(db, tmp_path)
    panel, bridge = _panel(qtbot, db)
    panel.set_project(project_id)
    panel.tokens_spin.setValue(2048)
    panel.prompt_edit.setPlainText("Tell me everything.")
    with qtbot.waitSignal(panel.job.finished, timeout=240_000) as finished:
        assert panel.ask() is not None
        qtbot.waitUntil(lambda: "writing" in panel.status_label.text(), timeout=120_000)
        qtbot.mouseClick(panel.stop_button, qtbot_button())
    assert finished.args[0]["state"] == "cancelled"
    assert not panel.review_button.isEnabled() and panel.ask_button.isEnabled()
    bridge.shutdown(grace_s=0.5)


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.LeftButton
