"""Evaluation runs: base vs tuned generations stored, scored, contamination left out."""

from __future__ import annotations

import json

import pytest

from engine.evaluate import sources
from engine.evaluate.generation import generate_answers
from engine.evaluate.job import EvalRecipe, run_evaluation
from engine.progress import Reporter
from engine.store import evaluations


def test_batched_generation_equals_one_at_a_time(tuned_tiny, tiny_records):
    from engine.models.loading import load_causal_lm, load_tokenizer

    model = load_causal_lm(tuned_tiny["merged"])
    tokenizer = load_tokenizer(tuned_tiny["merged"])
    records = tiny_records[:6]
    batched = generate_answers(model, tokenizer, records, max_new_tokens=8, batch_size=6)
    single = generate_answers(model, tokenizer, records, max_new_tokens=8, batch_size=1)
    assert batched == single
    assert all(isinstance(answer, str) for answer in batched)


def test_model_sides_of_a_train_run(trained_project, tuned_tiny):
    sides = sources.model_sides(trained_project["db"], trained_project["run_id"])
    assert sides["base"].folder == tuned_tiny["base"]
    assert sides["tuned"].folder == tuned_tiny["merged"]


def test_evaluation_stores_both_sides_and_fairness(trained_project):
    db, project_id = trained_project["db"], trained_project["project_id"]
    events = []
    recipe = EvalRecipe(run_id=trained_project["run_id"], limit=6, max_new_tokens=12,
                        max_length=64)
    summary = run_evaluation(db, project_id, recipe, Reporter(events.append))

    assert summary["items"] == 6 and summary["contaminated"] == 0
    assert set(summary["sides"]) == {"base", "tuned"}
    tuned = summary["sides"]["tuned"]
    assert {"perplexity", "bleu", "chrf", "rouge1", "rouge2", "rougeL", "exact_match"} <= set(tuned)
    # the adapter was trained on exactly this pattern: it must answer better than the base
    assert tuned["perplexity"] < summary["sides"]["base"]["perplexity"]
    assert set(summary["fairness"]["tuned"]["by_group"]) == {"even", "odd"}
    items = evaluations.items_by_side(db, summary["eval_run_id"])
    assert len(items) == 6 and set(items[0]["outputs"]) == {"base", "tuned"}
    row = next(db["runs"].rows_where("id = ?", [summary["eval_run_id"]]))
    assert row["kind"] == "evaluate" and json.loads(row["summary"])["items"] == 6
    assert any(event.stage == "generate tuned" for event in events)


def test_contaminated_test_records_are_left_out(trained_project, tmp_path):
    db, project_id = trained_project["db"], trained_project["project_id"]
    test_file = tmp_path / "test.jsonl"
    leaked, fresh = trained_project["records"][0], {"prompt": "What colour is item 99?",
                                                    "response": "Item 99 is red."}
    test_file.write_text("\n".join(json.dumps(r) for r in (leaked, fresh)) + "\n")
    recipe = EvalRecipe(run_id=trained_project["run_id"], compare=None,
                        test_file=str(test_file), max_new_tokens=4, max_length=64,
                        counterfactual=True)
    summary = run_evaluation(db, project_id, recipe, Reporter())
    assert summary["contaminated"] == 1 and summary["items"] == 1
    assert set(summary["sides"]) == {"tuned"}
    assert summary["fairness"]["tuned"] is None  # no group field in the file
    assert summary["sides"]["tuned"]["counterfactual"]["probed"] == 0  # nothing to swap


def test_bad_test_file_names_the_line(trained_project, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "x", "response": "y"}\n{"prompt": 3}\n')
    recipe = EvalRecipe(run_id=trained_project["run_id"], test_file=str(bad))
    with pytest.raises(ValueError, match="line 2"):
        run_evaluation(trained_project["db"], trained_project["project_id"], recipe, Reporter())
    with pytest.raises(ValueError, match="run 999 does not exist"):
        run_evaluation(trained_project["db"], trained_project["project_id"],
                       EvalRecipe(run_id=999), Reporter())


def test_drift_run_adds_model_drift_after_an_evaluation(trained_project, tmp_path):
    from engine.evaluate.drift_job import run_drift

    db, project_id = trained_project["db"], trained_project["project_id"]
    run_evaluation(db, project_id, EvalRecipe(run_id=trained_project["run_id"], compare=None,
                                              limit=4, max_new_tokens=2, max_length=64),
                   Reporter())
    new = tmp_path / "new.jsonl"
    new.write_text("".join(json.dumps({"prompt": f"Which colour has box {i}?",
                                       "response": f"Box {i} is purple and round."}) + "\n"
                           for i in range(8)))
    summary = run_drift(db, project_id, str(new), Reporter(),
                        train_run_id=trained_project["run_id"])
    assert summary["model"]["metric"] == "perplexity"
    assert summary["model"]["current"] > 0 and summary["drift_run_id"]
    assert summary["drifted"] is True  # new wording, new colour: content and model both shift


def test_pools_the_test_split_came_from_are_not_training_data(tmp_path):
    from engine.data.records import content_hash
    from engine.store import datasets, open_store, projects

    db = open_store(tmp_path / "w.sqlite3")
    project_id = projects.create(db, "Split")
    records = [{"prompt": f"q{i}", "response": f"a{i}"} for i in range(6)]

    def add(name, part, parent=None, role="pool"):
        return datasets.add_version(db, project_id, name, "split", part,
                                    [content_hash(r, "instruction") for r in part],
                                    parent_id=parent, role=role)
    pool = add("notes", records)
    train = add("notes-train", records[:4], pool, "train")
    add("notes-test", records[4:], pool, "test")
    assert sources.training_dataset_ids(db, project_id) == [train]
    assert sources.contaminated(db, project_id, records[3:]) == {0}
