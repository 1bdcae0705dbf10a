"""Evaluate panel: metrics base vs tuned, side by side, fairness chart, drift verdict."""

import json
import os
import random

from sql_trace import traced_statements

from engine import paths
from engine.data.demo_clinical import clinical_record
from engine.data.records import content_hash
from engine.evaluate.fairness import score_fairness
from engine.evaluate.job import corpus_scores, item_scores
from engine.store import datasets, evaluations, projects, runs
from gui import tasks
from gui.bridge import EngineBridge
from gui.panels.evaluate import EvaluatePanel
from gui.screenshot import render

ITEMS = [  # prompt, reference, base, tuned, group
    ("How often can I take paracetamol 500 mg?",
     "Every 4 to 6 hours, no more than 4 g in 24 hours.",
     "Take it whenever you feel pain.",
     "Every 4 to 6 hours, at most 4 g in 24 hours.", "patient_question"),
    ("Discharge summary: 71-year-old man, pneumonia, 5 days, amoxicillin.",
     "Diagnosis: pneumonia. Continue amoxicillin for 5 more days.",
     "The patient is a man.",
     "Diagnosis: pneumonia. Continue amoxicillin for 5 days.", "discharge"),
    ("Triage: chest pain radiating to the left arm, sweating.",
     "Level 1: immediate assessment, ECG within 10 minutes.",
     "Level 4.", "Level 1: immediate assessment and ECG.", "triage"),
    ("Triage: sprained ankle, can walk.", "Level 4: non-urgent, ice and elevation.",
     "Level 4: non-urgent.", "Level 3: urgent.", "triage"),
]


def _evaluated_project(db) -> int:
    project_id = projects.create(db, "Ward evaluation")
    train_id = runs.create(db, project_id, "train", "LoRA on clinical coreset")
    references = [i[1] for i in ITEMS]
    sides = {"base": [i[2] for i in ITEMS], "tuned": [i[3] for i in ITEMS]}
    summary = {"source_run": train_id, "test": "clinical-test v1", "items": len(ITEMS),
               "contaminated": 1, "group_field": "kind",
               "sides": {name: {"perplexity": ppl, **corpus_scores(out, references)}
                         for (name, out), ppl in zip(sides.items(), (9.8, 4.1))}}
    scored = {name: [item_scores(o, r) for o, r in zip(out, references)]
              for name, out in sides.items()}
    summary["fairness"] = {name: score_fairness(
        {m: [s[m] for s in rows] for m in rows[0]}, [i[4] for i in ITEMS])
        for name, rows in scored.items()}
    run_id = runs.create(db, project_id, "evaluate", f"evaluate run {train_id}")
    runs.set_summary(db, run_id, summary)
    evaluations.add_outputs(db, run_id, [
        {"item": n, "side": side, "prompt": i[0], "reference": i[1], "output": text,
         "group": i[4]} for n, i in enumerate(ITEMS) for side, text in
        (("base", i[2]), ("tuned", i[3]))])
    return project_id


def test_evaluate_panel_shows_metrics_samples_fairness_and_drift(qtbot, db, tmp_path):
    from gui.app import application

    application()
    project_id = _evaluated_project(db)
    rng = random.Random(0)
    train = [clinical_record(rng) for _ in range(40)]
    datasets.add_version(db, project_id, "clinical-train", "split", train,
                         [content_hash(r, "instruction") for r in train], role="train")
    shifted = tmp_path / "new_triage.jsonl"
    triage = [r for r in (clinical_record(rng) for _ in range(200)) if r["kind"] == "triage"]
    shifted.write_text("".join(json.dumps(r) + "\n" for r in triage[:20]))

    bridge = EngineBridge(paths.workspace_db())
    panel = EvaluatePanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.show()
    with qtbot.waitSignal(panel.evaluation_shown, timeout=10_000):
        panel.open_project(project_id)  # the answers are read off the main thread

    table = panel.metrics_table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert names[0] == "perplexity" and "rougeL" in names
    assert table.item(0, 3).text() == "better"  # 9.8 -> 4.1
    assert "left out" in panel.status_label.text()
    samples = panel.samples_view.toHtml()
    assert "c8f0c8" in samples and "line-through" in samples
    assert "largest gap" in panel.fairness_label.text()
    assert panel.drift_label.text() == "No drift check yet."

    with qtbot.waitSignal(bridge.job_finished, timeout=240_000) as finished:
        assert panel.run_drift(str(shifted)) is not None
    bridge.shutdown(grace_s=0.5)
    assert finished.args[1]["state"] == "succeeded", finished.args[1]["error"]
    qtbot.waitUntil(lambda: "Drift detected" in panel.drift_label.text(), timeout=5000)
    assert "content shifted" in panel.drift_label.text()
    application().processEvents()  # let the layout take the new drift text
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/evaluate.png" if out else tmp_path / "evaluate.png")
    render(panel, "/tmp/enclave-evaluate.png")


def _tiny_lm():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "engine" / "train" / "tiny_lm.py"
    spec = importlib.util.spec_from_file_location("enclave_tests_tiny_lm_gui_eval", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _project_with_compressed_variant(db, tmp_path) -> tuple[int, int]:
    """A train run (tiny Llama) and a real 50 %-pruned copy recorded as its compression."""
    from engine.compress.prune import prune_to_folder

    tiny_lm = _tiny_lm()
    model = tiny_lm.build_tiny_llama(tmp_path / "tiny")
    records = tiny_lm.tiny_records(12)
    project_id = projects.create(db, "Ward compressed")
    for name, part in (("tiny-train", records[:8]), ("tiny-test", records[8:])):
        datasets.add_version(db, project_id, name, "split", part,
                             [content_hash(r, "instruction") for r in part], role=name.rsplit("-", 1)[-1])
    train_id = runs.create(db, project_id, "train", "tiny full fine-tune")  # no base side
    runs.add_artifact(db, project_id, "merged-model", model, train_id)
    prune_to_folder(model, tmp_path / "pruned", 0.5)
    compress_id = runs.create(db, project_id, "compress", f"pruned 50% of run {train_id}",
                              {"method": "prune", "sparsity": 0.5, "source_run_id": train_id})
    runs.add_artifact(db, project_id, "compressed-model", tmp_path / "pruned", compress_id)
    runs.set_summary(db, compress_id, {"method": "prune", "label": "pruned 50%",
                                       "source_run_id": train_id})
    return project_id, train_id


def test_evaluate_panel_puts_a_compressed_variant_beside_tuned(qtbot, db, tmp_path):
    from gui.app import application

    application()
    project_id, train_id = _project_with_compressed_variant(db, tmp_path)
    bridge = EngineBridge(paths.workspace_db())
    panel = EvaluatePanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.show()
    panel.open_project(project_id)
    assert panel.train_combo.currentData() == train_id
    check = panel.compressed_check
    assert check.isEnabled() and check.isChecked() and check.text() == \
        "with 1 compressed variant"
    panel.limit_spin.setValue(2)
    with qtbot.waitSignal(bridge.job_finished, timeout=240_000) as finished:
        assert panel.run_evaluation() is not None
    bridge.shutdown(grace_s=0.5)
    assert finished.args[1]["state"] == "succeeded", finished.args[1]["error"]
    qtbot.waitUntil(lambda: panel.run_combo.count() == 1, timeout=5000)
    qtbot.waitUntil(lambda: "tuned pruned 50%:" in panel.samples_view.toHtml(), timeout=10_000)
    table = panel.metrics_table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["metric", "base", "tuned", "change", "pruned 50%"]
    assert table.item(0, 1).text() == "–" and table.item(0, 4).text() != "–"
    assert "compressed vs tuned" in panel.samples_title.text()
    samples = panel.samples_view.toHtml()
    assert samples.count("tuned pruned 50%:") == 2
    assert "c8f0c8" in samples or "line-through" in samples  # pruning changed some answers
    application().processEvents()
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/evaluate-compressed.png" if out else tmp_path / "evaluate.png")


def test_answers_are_read_off_the_main_thread(qtbot, db):
    """The side by side is read, redacted and word-diffed on the task runner: the window's
    connection never reads the answers, and a run left before they arrive shows nothing."""
    project_id = _evaluated_project(db)
    panel = EvaluatePanel(db, None)
    qtbot.addWidget(panel)
    with traced_statements(db) as statements, \
            qtbot.waitSignal(panel.evaluation_shown, timeout=10_000):
        panel.open_project(project_id)
        assert panel.metrics_table.rowCount() > 0  # the figures show at once
    assert not [s for s in statements  # an existence check (SELECT 1) is no read of answers
                if "eval_outputs" in s and not s.startswith("SELECT 1 ")]
    assert "c8f0c8" in panel.samples_view.toHtml()
    panel.open_project(projects.create(db, "Empty ward"))
    qtbot.waitUntil(lambda: not tasks.runner().busy(), timeout=10_000)
    assert "No evaluation yet" in panel.samples_view.toPlainText()
