"""One project at a time: after switching to an empty project, no panel shows anything of
the previous one (texts, table cells, combo items, chart titles, ticks and curves)."""

import json
import math

import numpy as np
import pytest
from visible_text import plotted_points, visible_texts

from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.importer import import_file
from engine.evaluate.fairness import score_fairness
from engine.evaluate.job import corpus_scores, item_scores
from engine.store import datasets, evaluations, jobs, projects, runs

MARKS = ("zebra", "quokka")  # every name and text of the first project holds one
PANELS = ["Overview", "Data", "Selection", "Training", "Compress", "Evaluate", "Review", "DPO"]


def _notes(path):
    rows = [{"question": f"The quokka keeper asks about feeding plan {i} for the zebra "
                         f"enclosure number {i % 7}",
             "answer": f"Give the quokka {i % 3 + 1} portions of zebra pellets at noon."}
            for i in range(40)]
    rows += rows[:4]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken quokka line\n")
    return path


def _train_run(db, pid, tmp_path, dataset_id) -> int:
    job_id = jobs.create(db, "train", {}, pid)
    jobs.finish(db, job_id, "succeeded")
    run_id = runs.create(db, pid, "train", "lora on zebra-notes",
                         {"dataset_id": dataset_id, "train": {"method": "lora"}}, job_id)
    for step in range(1, 21):
        runs.log_metric(db, run_id, "loss", step, 1 + math.exp(-step / 5))
        runs.log_metric(db, run_id, "lr", step, 1e-4)
    runs.set_summary(db, run_id, {"steps": 20, "loss_start": 2.0, "loss_end": 1.02})
    (tmp_path / "zebra-adapter").mkdir()
    runs.add_artifact(db, pid, "lora-adapter", tmp_path / "zebra-adapter", run_id)
    return run_id


def _selection(db, pid, tmp_path, parent_id) -> None:
    records = [{"prompt": f"quokka pick {i}", "response": "zebra", "label": "quokka_kind"}
               for i in range(6)]
    recipe = {"method": "kmeans", "budget": "6", "seed": 0, "parent_rows": 40,
              "embedding_model": "minilm", "parent_positions": list(range(6)),
              "metrics": {"kcenter_radius": 0.4, "clusters_hit": 1.0, "reference_clusters": 6,
                          "labels": {"all": {"quokka_kind": 1.0},
                                     "subset": {"quokka_kind": 1.0}}}}
    new_id = datasets.add_version(db, pid, "zebra-notes-coreset", "selection", records,
                                  [f"s{i}" for i in range(6)], role="train",
                                  parent_id=parent_id, recipe=recipe)
    path = tmp_path / "zebra-map.npz"
    np.savez(path, coords=np.random.default_rng(0).normal(size=(40, 2)),
             clusters=np.arange(40) % 6, selected=np.arange(6))
    runs.add_artifact(db, pid, "selection-map", path, dataset_id=new_id)


def _evaluation(db, pid, train_id) -> None:
    items = [(f"quokka question {i}", f"zebra answer {i}", f"base quokka {i}",
              f"tuned zebra {i}", "quokka-group" if i % 2 else "zebra-group") for i in range(4)]
    references = [i[1] for i in items]
    sides = {"base": [i[2] for i in items], "tuned": [i[3] for i in items]}
    scored = {n: [item_scores(o, r) for o, r in zip(out, references)] for n, out in sides.items()}
    summary = {"source_run": train_id, "test": "zebra-notes-test v1", "items": 4,
               "group_field": "kind",
               "sides": {n: {"perplexity": p, **corpus_scores(out, references)}
                         for (n, out), p in zip(sides.items(), (9.0, 4.0))},
               "fairness": {n: score_fairness({m: [s[m] for s in rows] for m in rows[0]},
                                              [i[4] for i in items])
                            for n, rows in scored.items()}}
    run_id = runs.create(db, pid, "evaluate", f"evaluate run {train_id}")
    runs.set_summary(db, run_id, summary)
    evaluations.add_outputs(db, run_id, [
        {"item": n, "side": side, "prompt": i[0], "reference": i[1], "output": text,
         "group": i[4]} for n, i in enumerate(items) for side, text in
        (("base", i[2]), ("tuned", i[3]))])
    drift = runs.create(db, pid, "drift", "drift zebra-new.jsonl")
    runs.set_summary(db, drift, {"file": "/data/zebra-new.jsonl", "drifted": True,
                                 "reasons": ["quokka topics grew"], "embedding": {"auc": 0.9},
                                 "drivers": [{"text": "a quokka driver"}]})


def _compression(db, pid, tmp_path, train_id) -> None:
    run_id = runs.create(db, pid, "compress", f"8-bit of run {train_id}",
                         {"method": "quantize-8bit", "source_run_id": train_id})
    runs.set_summary(db, run_id, {"label": "zebra 8-bit", "source_run_id": train_id,
                                  "variants": [{"name": "tuned fp32", "size_mb": 10.0,
                                                "ppl": 4.0},
                                               {"name": "zebra quokka", "size_mb": 5.0,
                                                "ppl": 4.2}]})
    (tmp_path / "zebra-8bit").mkdir()
    runs.add_artifact(db, pid, "compressed-model", tmp_path / "zebra-8bit", run_id)


@pytest.fixture
def projects_open(qtbot, window, db, tmp_path):
    """The window showing a full 'Zebra ward' project, then switched to an empty one."""
    pid = projects.create(db, "Zebra ward", "quokka care notes")
    notes = _notes(tmp_path / "zebra-notes.jsonl")
    imported = import_file(db, pid, notes, task="instruction", test_fraction=0.2)
    run_clean(db, pid, CleanRecipe(tokenizer="words", near_threshold=0.7))
    _selection(db, pid, tmp_path, imported.dataset_id)
    train_id = _train_run(db, pid, tmp_path, imported.dataset_id)
    _evaluation(db, pid, train_id)
    _compression(db, pid, tmp_path, train_id)
    failed = jobs.create(db, "train", {}, pid)
    jobs.finish(db, failed, "failed", error="the quokka file vanished")
    empty = projects.create(db, "Empty ward")
    window.refresh_projects()
    window.open_project(pid)
    panels = _panels(window)
    panels["Data"].path_edit.setText(str(notes))
    assert panels["Data"].show_preview()
    panels["Training"].runs_table.selectRow(0)
    return window, panels, empty


def _panels(window) -> dict:
    panels = {"Overview": window.project_panel, **dict(window.stage_panels)}
    panels["DPO"] = panels["Training"].dpo_options
    return panels


def _leftovers(widget) -> list[str]:
    return [text for text in visible_texts(widget) if any(m in text.lower() for m in MARKS)]


@pytest.mark.parametrize("name", PANELS)
def test_switching_to_an_empty_project_leaves_nothing_of_the_first(projects_open, name):
    window, panels, empty = projects_open
    panel = panels[name]
    assert _leftovers(panel), f"{name} showed nothing of the first project"
    window.open_project(empty)
    assert _leftovers(panel) == []
    assert plotted_points(panel) == 0
