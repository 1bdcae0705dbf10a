"""Data half of the demo: the product's own data stages on a generated clinical export.

generate → import (:func:`engine.data.importer.import_file`: validation,
quarantine, held-out test split) → clean (:func:`engine.data.clean_run.run_clean`
with a demo recipe) → select (:func:`engine.select.job.run_selection`: MiniLM
embeddings through the workspace cache, k-means nearest-to-centroid coreset).
Each stage writes its dataset versions itself; this module only chains them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.demo_clinical import write_clinical
from engine.data.importer import import_file
from engine.progress import Reporter
from engine.select.job import run_selection
from engine.select.recipe import SelectionRecipe
from engine.store import datasets

if TYPE_CHECKING:
    from engine.data.clean_recipe import CleanRecipe
    from engine.data.clean_run import CleanOutcome
    from engine.data.importer import ImportSummary

TASK = "instruction"
DATASET = "clinical"


@dataclass
class PreparedData:
    """Records ready for training and testing, and the figures of how they came to be."""

    coreset: list[dict]
    test: list[dict]
    summary: dict = field(default_factory=dict)


def import_export(db: sqlite_utils.Database, project_id: int, path: Path, recipe,
                  reporter: Reporter, job_id: int | None) -> "ImportSummary":
    """Import the export as dataset ``clinical`` with its quarantine and held-out split.

    Args:
        db: The workspace store.
        project_id: The project.
        path: The JSONL export.
        recipe: The demo recipe (``test_fraction``, ``seed``).
        reporter: Progress and cancel.
        job_id: The demo job.

    Returns:
        The importer's summary (dataset ids of the import and its train/test splits).
    """

    return import_file(db, project_id, path, task=TASK, fmt="jsonl",
                       test_fraction=recipe.test_fraction, seed=recipe.seed, name=DATASET,
                       reporter=reporter.for_stage("import"), job_id=job_id)


def demo_clean_recipe(recipe) -> "CleanRecipe":
    """The cleaning recipe of the demo: the defaults (repair, redaction with typed
    placeholders, exact and near duplicates, contamination), lengths in words."""

    return CleanRecipe(tokenizer="words", max_length=recipe.max_words, seed=recipe.seed)


def clean_splits(db: sqlite_utils.Database, project_id: int, imported: "ImportSummary", recipe,
                 reporter: Reporter, job_id: int | None) -> "CleanOutcome":
    """Clean the training split (and the test split: normalisation and redaction only)."""

    return run_clean(db, project_id, demo_clean_recipe(recipe), dataset_id=imported.train_id,
                     reporter=reporter.for_stage("clean"), job_id=job_id)


def select_coreset(db: sqlite_utils.Database, project_id: int, dataset_id: int, recipe,
                   reporter: Reporter, job_id: int | None) -> dict:
    """Select the k-means coreset (one record nearest each centroid) from a dataset version.

    Embeddings come from the workspace cache, so selecting again from the same
    records embeds nothing.

    Returns:
        The summary of :func:`engine.select.job.run_selection` (``dataset_id`` of the
        coreset, ``budget``, ``embedded`` and ``cached`` counts, ...).
    """

    source = datasets.get(db, dataset_id)
    selection = SelectionRecipe(method="kmeans", budget=str(min(recipe.budget, source["record_count"])),
                                seed=recipe.seed)
    return run_selection(db, project_id, selection, dataset=source["name"], reporter=reporter,
                         job_id=job_id)


def prepare(db: sqlite_utils.Database, project_id: int, workdir: Path, recipe,
            reporter: Reporter, job_id: int | None) -> PreparedData:
    """Generate the clinical export and take it through import, cleaning and coreset selection.

    Raises:
        Cancelled: If the reporter's stop flag is raised (finished stages stay stored).
    """
    path = workdir / "clinical_export.jsonl"
    workdir.mkdir(parents=True, exist_ok=True)
    written = write_clinical(path, n=recipe.records, seed=recipe.seed)
    reporter.check_cancel()
    imported = import_export(db, project_id, path, recipe, reporter, job_id)
    reporter.check_cancel()
    cleaned = clean_splits(db, project_id, imported, recipe, reporter, job_id)
    reporter.check_cancel()
    selected = select_coreset(db, project_id, cleaned.train_id, recipe, reporter, job_id)
    test = datasets.records(db, cleaned.test_id) if cleaned.test_id is not None else []
    train_count = cleaned.report["output"]["records"]
    summary = {"records_in": written.lines, "records_valid": imported.records,
               "records_quarantined": imported.quarantined,
               "records_after_clean": train_count + len(test),
               "clean_counts": cleaned.report["counts"], "phi_counts": cleaned.report["phi_counts"],
               "train_records": train_count, "test_records": len(test),
               "selected": selected["budget"], "coreset_id": selected["dataset_id"],
               "embedded": selected["embedded"],
               "embedded_from_cache": selected["cached"]}
    coreset = datasets.records(db, selected["dataset_id"])
    return PreparedData(coreset, test[:recipe.max_test_records], summary)
