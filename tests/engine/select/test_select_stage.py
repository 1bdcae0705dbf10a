import json

import numpy as np
import pytest

from engine import paths
from engine.data.demo_legal import write_legal
from engine.data.file_records import read_records
from engine.data.records import content_hash
from engine.progress import Cancelled, Reporter
from engine.select.cache import record_text
from engine.select.job import load_map, run_selection
from engine.select.recipe import RecipeError, SelectionRecipe
from engine.store import datasets, embeddings, open_store, projects

TASK = "classification"


@pytest.fixture
def project(enclave_home, tmp_path):
    """A workspace with a project holding 48 legal clause records."""
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "legal", task=TASK)
    write_legal(tmp_path / "legal.jsonl", n=60, seed=0)
    records = read_records(tmp_path / "legal.jsonl", TASK).records[:48]
    datasets.add_version(db, project_id, "clauses", "import", records,
                         [content_hash(r, TASK) for r in records], role="pool")
    return db, project_id


def _forward_passes(events) -> int:
    return sum(1 for e in events if e.stage == "embed" and e.message.startswith("Embedded"))


def test_selection_is_a_new_version_and_a_second_run_embeds_nothing(project):
    db, project_id = project
    first_events, second_events = [], []
    recipe = SelectionRecipe(method="kmeans", budget="25%", seed=2)
    first = run_selection(db, project_id, recipe, reporter=Reporter(first_events.append))
    unique = len({record_text(r) for r in datasets.records(db, first["parent_id"])})
    assert unique < 48  # boilerplate clauses occur more than once: each is embedded once
    assert _forward_passes(first_events) >= 1 and first["embedded"] == unique
    assert embeddings.count(db, "all-MiniLM-L6-v2") == unique
    second = run_selection(db, project_id, recipe, reporter=Reporter(second_events.append))
    assert _forward_passes(second_events) == 0
    assert (second["embedded"], second["cached"]) == (0, unique)
    rows = {r["id"]: r for r in datasets.list_for_project(db, project_id)}
    a, b = rows[first["dataset_id"]], rows[second["dataset_id"]]
    assert a["content_hash"] == b["content_hash"]  # same seed, same selection
    assert (a["name"], a["version"], b["version"], a["kind"]) == ("clauses-coreset", 1, 2,
                                                                  "selection")
    assert a["record_count"] == 12 and a["parent_id"] == first["parent_id"]
    provenance = json.loads(a["recipe"])
    assert provenance["method"] == "kmeans" and provenance["seed"] == 2
    assert provenance["embedding_model"] == "all-MiniLM-L6-v2"
    assert "scikit-learn" in provenance["versions"] and provenance["parent_content_hash"]
    assert len(set(provenance["parent_positions"])) == 12
    assert {"kcenter_radius", "clusters_hit", "quantisation_error"} <= set(provenance["metrics"])
    saved = load_map(first["map_path"])
    assert saved["coords"].shape == (48, 2)
    assert saved["selected"].tolist() == provenance["parent_positions"]
    for method in ("stratified-facility", "quality"):  # from the warm cache
        result = run_selection(db, project_id, SelectionRecipe(method=method, budget="10", seed=1,
                                                               dedup=0.98), dataset="clauses")
        assert result["budget"] == 10 and result["dedup_kept"] <= 48 and result["embedded"] == 0
        assert abs(sum(result["metrics"]["labels"]["subset"].values()) - 1) < 1e-9
        assert np.isfinite(result["metrics"]["kcenter_radius"])


def test_cancel_during_embedding_writes_nothing(project):
    db, project_id = project
    before = len(datasets.list_for_project(db, project_id))
    with pytest.raises(Cancelled):
        run_selection(db, project_id, SelectionRecipe(budget="10%"),
                      reporter=Reporter(stop_requested=lambda: True))
    assert len(datasets.list_for_project(db, project_id)) == before
    assert embeddings.count(db) == 0


def test_bad_input_is_a_clear_error(project):
    db, project_id = project
    records = [{"text": r["text"]} for r in datasets.records(db, 1)]
    datasets.add_version(db, project_id, "unlabelled", "import", records,
                         [content_hash(r, "text") for r in records], role="pool")
    datasets.add_version(db, project_id, "empty", "import", [], [], role="pool")
    with pytest.raises(RecipeError, match="needs a 'label' on every record; 48 of 48"):
        run_selection(db, project_id, SelectionRecipe(method="stratified-kmeans", budget="10%"),
                      dataset="unlabelled")
    with pytest.raises(RecipeError, match="dataset is empty"):
        run_selection(db, project_id, SelectionRecipe(), dataset="empty")
    with pytest.raises(RecipeError, match="only 48"):
        run_selection(db, project_id, SelectionRecipe(budget="49"), dataset="clauses")
    with pytest.raises(RecipeError, match="no dataset named 'nope'"):
        run_selection(db, project_id, SelectionRecipe(), dataset="nope")


def test_auto_is_stratified_kmeans_for_labelled_records_and_kmeans_otherwise(project):
    from engine.select.methods import resolve_method

    db, project_id = project
    auto = run_selection(db, project_id, SelectionRecipe(budget="25%", seed=2))
    stratified = run_selection(db, project_id, SelectionRecipe(method="spread-kmeans",
                                                               budget="25%", seed=2),
                               dataset="clauses")
    assert auto["method"] == "spread-kmeans"
    rows = {r["id"]: r for r in datasets.list_for_project(db, project_id)}
    provenance = json.loads(rows[auto["dataset_id"]]["recipe"])
    assert (provenance["method"], provenance["method_used"]) == ("auto", "spread-kmeans")
    assert provenance["parent_positions"] == json.loads(
        rows[stratified["dataset_id"]]["recipe"])["parent_positions"]
    assert resolve_method("auto", None) == "kmeans"
    assert resolve_method("auto", ["a", "a"]) == "kmeans"  # one label: nothing to stratify
    assert resolve_method("kcenter", ["a", "b"]) == "kcenter"


def test_pick_dataset_takes_the_exact_version_and_refuses_a_test_set(project):
    from engine.select.job import pick_dataset, selectable_datasets

    db, project_id = project
    rows = datasets.records(db, 1)
    second = datasets.add_version(db, project_id, "clauses", "import", rows[:10],
                                  [content_hash(r, TASK) for r in rows[:10]], role="pool")
    test = datasets.add_version(db, project_id, "held", "split", rows[:5],
                                [content_hash(r, TASK) for r in rows[:5]], role="test")
    assert pick_dataset(db, project_id, 1)["id"] == 1  # not the newest 'clauses'
    assert pick_dataset(db, project_id, "clauses")["id"] == second
    with pytest.raises(RecipeError, match="test set"):
        pick_dataset(db, project_id, test)
    assert [r["id"] for r in selectable_datasets(db, project_id)] == [second, 1]
