"""Preference pairs for DPO: from stored reviews, from a JSONL file, as a dataset version."""

from __future__ import annotations

import json

import pytest

from engine import paths
from engine.store import evaluations, open_store, projects, runs
from engine.train import preferences


def _reviewed_project(db) -> tuple[int, int]:
    """A project with one evaluation of three items, reviewed by two experts."""
    project_id = projects.create(db, "Ward pairs")
    run_id = runs.create(db, project_id, "evaluate", "eval", {})
    rows = [{"item": item, "side": side, "prompt": f"Question {item}?", "reference": "",
             "output": f"{side} answer {item}"}
            for item in range(3) for side in ("base", "tuned")]
    evaluations.add_outputs(db, run_id, rows)
    # Blind A/B: item 0 tuned preferred, item 1 base preferred (both sides rated).
    for item, winner in ((0, "tuned"), (1, "base")):
        for side in ("base", "tuned"):
            evaluations.add_review(db, run_id, item, side, 4 if side == winner else 2,
                                   blind=True, preferred=side == winner, reviewer="ana")
    # A correction of the tuned answer of item 2, no preference.
    evaluations.add_review(db, run_id, 2, "tuned", 2, correction="Corrected answer 2.",
                           reviewer="ben")
    # A correction identical to the output teaches nothing: no pair.
    evaluations.add_review(db, run_id, 1, "base", 5, correction="base answer 1", reviewer="ben")
    return project_id, run_id


@pytest.fixture
def db():
    return open_store(paths.workspace_db())


def test_pairs_come_from_ab_preferences_and_corrections(db):
    project_id, run_id = _reviewed_project(db)
    assert preferences.stored_pairs(db, project_id, include_corrections=False) == [
        {"prompt": "Question 0?", "chosen": "tuned answer 0", "rejected": "base answer 0"},
        {"prompt": "Question 1?", "chosen": "base answer 1", "rejected": "tuned answer 1"}]
    pairs = preferences.stored_pairs(db, project_id)
    assert pairs[-1] == {"prompt": "Question 2?", "chosen": "Corrected answer 2.",
                         "rejected": "tuned answer 2"}
    assert preferences.count_stored_pairs(db, project_id) == {
        "preferences": 2, "corrections": 1, "total": 3}


def test_snapshot_is_a_dataset_version_reused_while_pairs_do_not_change(db):
    project_id, run_id = _reviewed_project(db)
    first = preferences.snapshot_stored_pairs(db, project_id)
    assert preferences.snapshot_stored_pairs(db, project_id) == first
    row = db["datasets"].get(first)
    assert (row["name"], row["kind"], row["record_count"]) == ("preference-pairs",
                                                               "preferences", 3)
    assert json.loads(row["recipe"])["eval_runs"] == [run_id]
    evaluations.add_review(db, run_id, 0, "base", 1, correction="Better answer 0.",
                           reviewer="ben")
    second = preferences.snapshot_stored_pairs(db, project_id)
    assert second != first and db["datasets"].get(second)["version"] == 2
    assert len(preferences.dataset_pairs(db, second)) == 4


def test_no_or_too_few_pairs_get_a_message_that_says_how_to_add_some(db):
    project_id = projects.create(db, "Empty ward")
    with pytest.raises(preferences.NotEnoughPairs, match="No preference pairs in the reviews"):
        preferences.snapshot_stored_pairs(db, project_id)
    with pytest.raises(preferences.NotEnoughPairs,
                       match=r"Only 1 preference pair\(s\) in x; DPO needs at least 4 "
                             r"\(recipe field min_pairs\)\. In the Review tab"):
        preferences.require_pairs([{"prompt": "p", "chosen": "a", "rejected": "b"}], 4, "x")


def test_pairs_file_round_trip_and_import_as_dataset(db, tmp_path):
    project_id, _ = _reviewed_project(db)
    pairs = preferences.stored_pairs(db, project_id)
    path = preferences.write_pairs_file(pairs + [{"prompt": "Før?", "chosen": "Ja — så.",
                                                  "rejected": "Nej", "system": "Dansk"}],
                                        tmp_path / "pairs.jsonl")
    assert preferences.read_pairs_file(path)[-1]["system"] == "Dansk"
    dataset_id = preferences.import_pairs(db, project_id, path)
    assert db["datasets"].get(dataset_id)["record_count"] == 4
    assert preferences.dataset_pairs(db, dataset_id)[-1]["chosen"] == "Ja — så."
    assert [row["id"] for row in preferences.pair_datasets(db, project_id)] == [dataset_id]


@pytest.mark.parametrize("line, message", [
    ('{"prompt": "p", "chosen": "a"}', "line 2: field 'rejected' is missing"),
    ('{"prompt": "p", "chosen": 3, "rejected": "b"}',
     "line 2: field 'chosen' must be a non-empty string"),
    ('{"prompt": " ", "chosen": "a", "rejected": "b"}',
     "line 2: field 'prompt' must be a non-empty string"),
    ('{"prompt": "p", "chosen": "same", "rejected": " same"}',
     "line 2: fields 'chosen' and 'rejected' are the same text"),
    ('{"prompt": "p", "chosen": "a", "rejected": "b", "system": 1}',
     "line 2: field 'system' must be a string"),
    ('["p", "a", "b"]', "line 2: expected an object with fields prompt, chosen, rejected"),
    ('{"prompt": "p", "chosen": "a",', "line 2: not valid JSON"),
])
def test_bad_pairs_file_names_file_line_and_field_and_stores_nothing(db, tmp_path, line,
                                                                    message):
    project_id = projects.create(db, "Ward bad file")
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n' + line + "\n\n")
    with pytest.raises(ValueError) as caught:
        preferences.import_pairs(db, project_id, path)
    assert f"1 bad line(s) in {path}" in str(caught.value)
    assert f"{path} {message}" in str(caught.value)
    assert preferences.pair_datasets(db, project_id) == []


def test_pairs_file_that_is_empty_missing_or_not_utf8(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="empty.jsonl: no preference pair in the file"):
        preferences.read_pairs_file(empty)
    with pytest.raises(ValueError, match="missing.jsonl: cannot read"):
        preferences.read_pairs_file(tmp_path / "missing.jsonl")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"prompt": "F\u00f8r"}'.encode("latin-1"))
    with pytest.raises(ValueError, match="latin.jsonl: not UTF-8 text"):
        preferences.read_pairs_file(latin)


def test_many_bad_lines_are_counted_and_the_first_ones_shown(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join('{"prompt": "p"}' for _ in range(8)) + "\n")
    with pytest.raises(ValueError, match=r"8 bad line\(s\).*line 5: .*\(and 3 more\)"):
        preferences.read_pairs_file(path)
