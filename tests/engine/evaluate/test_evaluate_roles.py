"""Evaluation takes every record of the held-out split cleaned like the training data.

The path of a user: import a file of distinct records → clean (with redaction) →
select a coreset → train on it → evaluate the run. Before roles were stored, the
cleaned test split counted as training data and most (or all) test records were
dropped as "contaminated".
"""

from __future__ import annotations

import json
import random

import pytest

from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.importer import import_file
from engine.evaluate.job import EvalRecipe, run_evaluation
from engine.progress import Reporter
from engine.select.job import run_selection
from engine.select.recipe import SelectionRecipe
from engine.store import datasets, open_store, projects, runs

WORDS = ("fever cough rash ankle wrist insulin dosage ward triage discharge sutures wound "
         "pressure bandage oxygen asthma inhaler fracture cast crutches allergy penicillin "
         "nausea vomiting headache migraine diet fluids walking stairs shower dressing pain "
         "tablet evening morning clinic nurse follow review stitches swelling elevate ice").split()


def distinct_records(count: int, seed: int = 0) -> list[dict]:
    """Instruction records of random words: no two share enough 3-grams to be near duplicates."""
    rng = random.Random(seed)
    return [{"prompt": f"Question {i}: " + " ".join(rng.choices(WORDS, k=14)) + "?",
             "response": " ".join(rng.choices(WORDS, k=12)) + "."} for i in range(count)]


def _path_to_evaluation(tmp_path, tuned_tiny, count: int) -> tuple[dict, dict]:
    source = tmp_path / "notes.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in distinct_records(count)))
    db = open_store(tmp_path / "w.sqlite3")
    project_id = projects.create(db, "Ward notes")
    imported = import_file(db, project_id, source, task="instruction", test_fraction=0.1)
    cleaned = run_clean(db, project_id, CleanRecipe(tokenizer="words"))
    selected = run_selection(db, project_id, SelectionRecipe(method="random", budget="20"))
    run_id = runs.create(db, project_id, "train", "LoRA on the coreset",
                         {"base_model": str(tuned_tiny["base"]),
                          "dataset_id": selected["dataset_id"]})
    runs.add_artifact(db, project_id, "merged-model", tuned_tiny["merged"], run_id)
    summary = run_evaluation(db, project_id, EvalRecipe(run_id=run_id, limit=500,
                                                        max_new_tokens=2, max_length=64,
                                                        compare=None),
                             Reporter())
    test_clean = datasets.get(db, cleaned.test_id)
    return summary, {"imported": imported, "test_clean": test_clean}


@pytest.mark.parametrize("count", [102, 120])
def test_every_cleaned_test_record_is_evaluated(tmp_path, tuned_tiny, count):
    summary, made = _path_to_evaluation(tmp_path, tuned_tiny, count)
    test_clean = made["test_clean"]
    assert test_clean["role"] == "test" and test_clean["kind"] == "clean"
    assert summary["contaminated"] == 0
    assert summary["items"] == test_clean["record_count"] == made["imported"].test
    assert summary["test"] == f"{test_clean['name']} v{test_clean['version']}"


def test_the_raw_split_is_used_when_nothing_was_cleaned(tmp_path, tuned_tiny):
    source = tmp_path / "notes.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in distinct_records(40)))
    db = open_store(tmp_path / "w.sqlite3")
    project_id = projects.create(db, "Raw")
    imported = import_file(db, project_id, source, task="instruction", test_fraction=0.25)
    run_id = runs.create(db, project_id, "train", "LoRA on the raw split",
                         {"base_model": str(tuned_tiny["base"]), "dataset_id": imported.train_id})
    runs.add_artifact(db, project_id, "merged-model", tuned_tiny["merged"], run_id)
    summary = run_evaluation(db, project_id, EvalRecipe(run_id=run_id, limit=500,
                                                        max_new_tokens=2, max_length=64,
                                                        compare=None), Reporter())
    assert summary["items"] == imported.test == 10 and summary["contaminated"] == 0
    assert summary["test"] == "notes-test v1"
