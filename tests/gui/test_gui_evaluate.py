"""Evaluate panel: metrics base vs tuned, side by side, fairness chart, drift verdict."""

import json
import os
import random

from engine import paths
from engine.data.demo_clinical import clinical_record
from engine.data.records import content_hash
from engine.evaluate.fairness import score_fairness
from engine.evaluate.run_eval import corpus_scores, item_scores
from engine.store import datasets, evaluations, projects, runs
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
                         [content_hash(r, "instruction") for r in train])
    shifted = tmp_path / "new_triage.jsonl"
    triage = [r for r in (clinical_record(rng) for _ in range(200)) if r["kind"] == "triage"]
    shifted.write_text("".join(json.dumps(r) + "\n" for r in triage[:20]))

    bridge = EngineBridge(paths.workspace_db())
    panel = EvaluatePanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.show()
    panel.open_project(project_id)

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
