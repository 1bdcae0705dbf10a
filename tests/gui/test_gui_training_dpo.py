"""Training panel, method dpo: pair count from reviews, DPO recipe, reward curves of a DPO run."""

import math

from engine.store import evaluations, projects, runs
from gui.panels.training import TrainingPanel
from gui.screenshot import render


def _project_with_reviews_and_runs(db, tmp_path) -> tuple[int, int, int]:
    project_id = projects.create(db, "Ward preferences")
    eval_run = runs.create(db, project_id, "evaluate", "eval", {})
    evaluations.add_outputs(db, eval_run, [
        {"item": i, "side": side, "prompt": f"Question {i}?", "output": f"{side} answer {i}"}
        for i in range(3) for side in ("base", "tuned")])
    for item in (0, 1):
        evaluations.add_review(db, eval_run, item, "tuned", 4, blind=True, preferred=True)
        evaluations.add_review(db, eval_run, item, "base", 2, blind=True, preferred=False)
    evaluations.add_review(db, eval_run, 2, "tuned", 2, correction="Better answer 2.")
    sft = runs.create(db, project_id, "train", "lora on clinical-coreset",
                      {"base": "smollm2", "train": {"method": "lora", "learning_rate": 2e-4,
                                                    "batch_size": 4}})
    runs.set_summary(db, sft, {"steps": 60, "loss_end": 1.21, "output": "/tmp/run-2/output"})
    (tmp_path / "sft-adapter").mkdir()
    runs.add_artifact(db, project_id, "lora-adapter", tmp_path / "sft-adapter", sft)
    dpo = runs.create(db, project_id, "train", "dpo on 24 pairs from run 2",
                      {"base": "smollm2", "from_run": sft,
                       "train": {"method": "dpo", "learning_rate": 5e-5, "batch_size": 2}})
    for step in range(1, 25):
        runs.log_metric(db, dpo, "loss", step, 0.693 * math.exp(-step / 30) + 0.02 * math.sin(step))
        runs.log_metric(db, dpo, "lr", step, 5e-5 * min(1, step / 3) * (1 - step / 25))
        runs.log_metric(db, dpo, "tokens_per_s", step, 380 + 10 * math.sin(step / 4))
        runs.log_metric(db, dpo, "reward_accuracy", step, min(1.0, 0.5 + step / 30))
        runs.log_metric(db, dpo, "reward_margin", step, 0.02 * step)
    runs.set_summary(db, dpo, {"steps": 24, "loss_end": 0.31, "pairs": 24,
                               "reward_accuracy": 1.0, "tokens_per_s": 385.0,
                               "output": "/tmp/run-3/output"})
    return project_id, sft, dpo


def test_dpo_method_shows_the_pairs_and_refuses_too_few(qtbot, db, tmp_path):
    project_id, sft, _ = _project_with_reviews_and_runs(db, tmp_path)
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    panel.open_project(project_id)
    panel.inputs["method"].setCurrentText("dpo")
    options = panel.dpo_options
    assert panel.recipe_stack.currentWidget() is options
    assert panel.start_button.text() == "Start DPO"
    label = options.pairs_label.text()
    assert label.startswith("3 preference pairs from reviews: 2 A/B choices, 1 corrected")
    assert "DPO needs at least 4 (min pairs)" in label and "Review tab" in label
    options.inputs["include_corrections"].setChecked(False)
    assert options.pairs_label.text().startswith("2 preference pairs from reviews")
    panel.start_dpo()
    assert panel.status_label.text().startswith("Cannot start DPO: 2 preference pairs")
    options.inputs["min_pairs"].setText("2")
    options.inputs["beta"].setText("0.3")
    options.start_combo.setCurrentIndex(options.start_combo.findData(sft))
    recipe = options.recipe()
    assert recipe.beta == 0.3 and recipe.include_corrections is False
    assert options.params("smollm2", recipe) == {
        "recipe": recipe.to_dict(), "base": None, "from_run": sft, "pairs_dataset": None}
    options.inputs["beta"].setText("-1")
    panel.start_dpo()
    assert "beta must be > 0" in panel.status_label.text()


def test_dpo_run_curves_and_screenshot(qtbot, db, tmp_path):
    project_id, _, dpo = _project_with_reviews_and_runs(db, tmp_path)
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.open_project(project_id)
    assert not panel.plots["DPO rewards"].isVisibleTo(panel)
    panel.inputs["method"].setCurrentText("dpo")
    panel.runs_table.selectRow(0)
    assert panel.runs_table.item(0, 2).text() == "dpo"
    assert len(panel.lines["reward_accuracy"].getData()[0]) == 24
    assert panel.plots["DPO rewards"].isVisibleTo(panel)
    panel.resume_selected()
    assert "DPO runs start again" in panel.status_label.text()
    panel.status_label.setText("Training job 4 succeeded.")
    panel.show()
    qtbot.wait(50)
    assert render(panel, tmp_path / "training-dpo.png").stat().st_size > 10_000
