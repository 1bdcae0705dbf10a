"""Each path that touches patients' data writes an audit row: import, clean, purge,
canaries, every job (training and export included, queued and ended), review, export."""

from __future__ import annotations

import json

from engine import paths
from engine.data.canaries import plant
from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.importer import import_file
from engine.data.purge import purge_raw
from engine.store import audit, evaluations, jobs, open_store, projects, runs


def _details(db, action):
    return [json.loads(row["detail"]) for row in audit.entries(db, action=action)]


def test_import_clean_purge_canaries_jobs_and_reviews_are_audited(tmp_path):
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward")
    rows = [{"prompt": f"Patient Zebulon Quackenbush MRN {5100000 + i} asks question {i} "
                       "about the plan", "response": f"Answer {i}."} for i in range(10)]
    source = tmp_path / "ward.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    import_file(db, project_id, source, task="instruction", test_fraction=0.2, seed=1)
    run_clean(db, project_id, CleanRecipe(tokenizer="words", redaction="placeholder"))
    kinds = {d["kind"] for d in _details(db, "dataset.create")}
    assert {"import", "split", "clean"} <= kinds
    assert all(d["project_id"] == project_id for d in _details(db, "dataset.create"))
    purge_raw(db, project_id)
    plant(db, project_id, count=2)
    for kind in ("train", "export"):
        jobs.finish(db, jobs.create(db, kind, {}, project_id), jobs.SUCCEEDED, result={})
    assert {d["kind"] for d in _details(db, "job.queue")} >= {"train", "export"}
    assert len(audit.entries(db, action="job.finish")) == 2
    run_id = runs.create(db, project_id, "evaluate", "e")
    evaluations.add_outputs(db, run_id, [{"item": 0, "side": "tuned", "prompt": "p",
                                          "reference": "r", "output": "o"}])
    evaluations.add_review(db, run_id, 0, "tuned", 4)
    actions = {row["action"] for row in audit.entries(db, project=str(project_id))}
    assert {"project.create", "dataset.create", "data.purge_raw", "data.plant_canaries",
            "job.queue", "job.finish"} <= actions
    assert audit.entries(db, action="review.add") and audit.verify(db) == []
