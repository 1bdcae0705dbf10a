"""Cleaning runs: each step counts and shows examples, versions link to parent and recipe."""

import json

import pytest

from engine import paths
from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import CleanError, run_clean
from engine.data.importer import import_file
from engine.data.report import render_html
from engine.store import dataset_stream, datasets, open_store, projects

BASE = "the patient reports mild headache after starting the new medication for blood pressure"


def _rows():
    rows = [{"prompt": f"Question {i}: {BASE} number {i} with extra words {i * 7}",
             "response": f"Answer {i}: rest and fluids, review in {i} days."} for i in range(40)]
    rows.append(dict(rows[3]))                                       # exact duplicate
    rows.append({"prompt": rows[5]["prompt"] + " today", "response": rows[5]["response"]})  # near
    rows.append({"prompt": "Caf\u00c3\u00a9 visit?", "response": "Yes,  the   café."})     # mojibake
    rows.append({"prompt": "\x01\x02", "response": "control characters only"})           # empty after
    rows.append({"prompt": "Patient John Smith, MRN 1234567, phone 555-123-4567?",
                 "response": "Call back on 03/04/2021."})
    rows.append({"prompt": " ".join(["word"] * 300), "response": "too long"})
    return rows


@pytest.fixture
def imported(tmp_path):
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "clean-test")
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _rows()))
    summary = import_file(db, pid, path, task="instruction", test_fraction=0.1, seed=3)
    return db, pid, summary


def _texts(db, dataset_id):
    return [r for _, r, _ in dataset_stream.iter_records(db, dataset_id)]


def test_every_step_reports_counts_and_versions_link_back(imported):
    db, pid, summary = imported
    before = _texts(db, summary.dataset_id)
    recipe = CleanRecipe(tokenizer="words", max_length=200, near_threshold=0.7)
    outcome = run_clean(db, pid, recipe)
    counts = outcome.report["counts"]
    assert counts["exact_duplicate"] + counts["contamination_exact"] >= 1
    assert counts["near_duplicate"] + counts["contamination_near"] >= 1
    train = _texts(db, summary.train_id)
    assert counts["empty"] == sum(r["prompt"] == "\x01\x02" for r in train)
    assert counts["too_long"] == sum(r["response"] == "too long" for r in train)
    specials = sum(r["prompt"] in ("\x01\x02", "Caf\u00c3\u00a9 visit?") for r in train)
    assert counts["normalise"] >= specials
    assert counts["redaction"] >= sum("John" in r["prompt"] for r in train)
    kept = _texts(db, outcome.train_id)
    assert any("Café visit?" == r["prompt"] for r in kept + _texts(db, outcome.test_id))
    assert not any("John" in json.dumps(r) for r in kept)
    row = datasets.get(db, outcome.train_id)
    assert row["parent_id"] == summary.train_id and row["kind"] == "clean"
    assert json.loads(row["recipe"])["clean"]["near_threshold"] == 0.7
    assert datasets.get(db, outcome.test_id)["parent_id"] == summary.test_id
    assert _texts(db, summary.dataset_id) == before  # the import is never overwritten
    again = run_clean(db, pid, recipe)
    assert datasets.get(db, again.train_id)["version"] == row["version"] + 1


def test_report_shows_types_not_identifiers_and_clusters_name_the_kept_record(imported):
    db, pid, _ = imported
    report = run_clean(db, pid, CleanRecipe(tokenizer="words", near_threshold=0.7,
                                            redaction="flag")).report
    page = render_html(report, "Quality")
    assert "John" not in page and "1234567" not in page and "[NAME]" in page
    assert report["phi_counts"]["PHONE"] >= 1
    if report["clusters"]:
        assert report["clusters"][0]["kept_text"] and report["clusters"][0]["removed"][0]["line"]
    assert "<svg" in page and "http" not in page.split("<body>")[1].replace("http://www.w3.org", "")


def test_contamination_removes_training_copies_of_test_records(tmp_path):
    """A split made before duplicates were grouped (an older workspace) can share records
    between train and test: cleaning drops the training copies."""
    from engine.data.records import content_hash

    db = open_store(paths.workspace_db())
    pid = projects.create(db, "contamination")
    rows = [{"prompt": f"unique question {i} about topic {i * 13} and more {i}", "response": f"a{i}"}
            for i in range(30)]

    def add(name, kind, records, role, **links):
        return datasets.add_version(db, pid, name, kind, records,
                                    [content_hash(r, "instruction") for r in records],
                                    role=role, recipe={"task": "instruction"}, **links)
    pool = add("x", "import", rows + rows[:6], "pool")
    test = add("x-test", "split", rows[:6], "test", parent_id=pool)
    add("x-train", "split", rows, "train", parent_id=pool, test_id=test)
    counts = run_clean(db, pid, CleanRecipe(tokenizer="words")).report["counts"]
    assert counts["contamination_exact"] == 6


def test_language_filter_and_recipe_files(tmp_path, imported):
    db, pid, _ = imported
    recipe_file = tmp_path / "recipe.toml"
    recipe_file.write_text('[clean]\ntokenizer = "words"\nlanguage_filter = true\nlanguages = "fr"\n')
    recipe, _ = CleanRecipe.from_toml(recipe_file)
    report = run_clean(db, pid, recipe).report
    assert report["counts"]["language"] >= 30 and report["examples"]["language"][0]["reason"].startswith("detected en")
    recipe_file.write_text('max_length = "long"\n')
    with pytest.raises(ValueError, match=r"recipe\.toml \[clean\]: max_length must be int"):
        CleanRecipe.from_toml(recipe_file)
    with pytest.raises(ValueError, match="unknown field 'nope'"):
        CleanRecipe.from_dict({"nope": 1})
    with pytest.raises(ValueError, match="redaction must be one of"):
        CleanRecipe(redaction="maybe")


def test_length_in_tokens_of_a_model_folder(imported):
    from engine.models.bundled import minilm_folder

    db, pid, _ = imported
    report = run_clean(db, pid, CleanRecipe(tokenizer=str(minilm_folder()), max_length=40)).report
    assert report["length_unit"] == "tokens" and report["counts"]["too_long"] >= 1


def test_cleaning_a_project_without_data_says_what_to_do():
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "empty")
    with pytest.raises(CleanError, match="no imported data yet"):
        run_clean(db, pid, CleanRecipe(tokenizer="words"))
