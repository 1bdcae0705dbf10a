"""The demo's data half runs the product's own import, cleaning and cached selection."""

from dataclasses import replace

from engine import paths
from engine.demo.pipeline import DemoRecipe
from engine.demo.stages import data_stages
from engine.progress import Reporter
from engine.store import dataset_stream, datasets, embeddings, open_store, projects

RECIPE = replace(DemoRecipe.quick(), records=120, budget=8)


def _prepare(db, project_id, tmp_path):
    return data_stages.prepare(db, project_id, tmp_path / f"demo-{project_id}", RECIPE,
                               Reporter(), None)


def test_demo_data_goes_through_the_importer_cleaner_and_cached_selection(tmp_path):
    db = open_store(paths.workspace_db())
    first_project = projects.create(db, "first")
    first = _prepare(db, first_project, tmp_path)

    rows = datasets.list_for_project(db, first_project)
    assert [(r["name"], r["kind"]) for r in rows] == [
        ("clinical", "import"), ("clinical-train", "split"), ("clinical-test", "split"),
        ("clinical-test-clean", "clean"), ("clinical-clean", "clean"),
        ("clinical-clean-coreset", "selection")]
    summary = first.summary
    quarantine = dataset_stream.quarantine_for_project(db, first_project)
    assert summary["records_quarantined"] == len(quarantine) > 0
    assert all(q["file"].endswith("clinical_export.jsonl") and q["line"] >= 1 for q in quarantine)
    assert summary["records_valid"] + summary["records_quarantined"] <= summary["records_in"] == 120
    assert summary["train_records"] == rows[4]["record_count"]
    assert len(first.coreset) == summary["selected"] == 8
    assert summary["embedded"] == summary["train_records"] and summary["embedded_from_cache"] == 0
    assert embeddings.count(db) == summary["train_records"]

    second_project = projects.create(db, "second")
    second = _prepare(db, second_project, tmp_path)
    assert second.summary["embedded"] == 0
    assert second.summary["embedded_from_cache"] == summary["train_records"]
    assert [r["prompt"] for r in second.coreset] == [r["prompt"] for r in first.coreset]
    assert embeddings.count(db) == summary["train_records"]
