"""Data half of the demo: generate, import, clean, split, embed, select."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from engine.data.clean import clean
from engine.data.demo_clinical import write_clinical
from engine.data.readers import read_jsonl
from engine.data.records import content_hash
from engine.data.split import hold_out
from engine.progress import Reporter
from engine.store import datasets, runs

TASK = "instruction"


@dataclass
class PreparedData:
    """Records ready for training and testing, and the figures of how they came to be."""

    coreset: list[dict]
    test: list[dict]
    summary: dict = field(default_factory=dict)


def _store(db, project_id: int, name: str, kind: str, records: list[dict], job_id,
           parent_id: int | None = None, recipe: dict | None = None) -> int:
    hashes = [content_hash(r, TASK) for r in records]
    return datasets.add_version(db, project_id, name, kind, records, hashes,
                                parent_id=parent_id, recipe=recipe, job_id=job_id)


def import_file(db, project_id: int, path: Path, reporter: Reporter,
                job_id: int | None) -> tuple[int, Any]:
    """Read a JSONL export; keep valid records, quarantine the rest (one transaction each)."""
    step = reporter.for_stage("import")
    step.report(0, 1, f"reading {path.name}")
    result = read_jsonl(path, TASK)
    dataset_id = _store(db, project_id, "clinical", "import", result.records, job_id,
                        recipe={"file": str(path), "task": TASK})
    datasets.add_quarantine(db, dataset_id, (
        {"file": e.file, "line": e.line, "field": e.field, "reason": str(e)}
        for e in result.errors))
    step.report(1, 1, f"{len(result.records)} valid, {len(result.errors)} quarantined")
    return dataset_id, result


def clean_and_split(db, project_id: int, imported: int, records: list[dict], recipe,
                    reporter: Reporter, job_id) -> tuple[list[dict], list[dict], dict]:
    """Drop too long / empty / duplicate records, then hold out a test split."""
    step = reporter.for_stage("clean")
    cleaned = clean(records, TASK, max_words=recipe.max_words)
    clean_id = _store(db, project_id, "clinical", "clean", cleaned.kept, job_id,
                      parent_id=imported, recipe={"max_words": recipe.max_words,
                                                  "counts": cleaned.counts})
    step.report(1, 1, f"{len(cleaned.kept)} kept, {len(cleaned.dropped)} dropped",
                stage="clean")
    train, test = hold_out(cleaned.kept, recipe.test_fraction, recipe.seed)
    split = {"fraction": recipe.test_fraction, "seed": recipe.seed}
    _store(db, project_id, "clinical-train", "split", train, job_id, clean_id, split)
    _store(db, project_id, "clinical-test", "split", test, job_id, clean_id, split)
    reporter.for_stage("split").report(1, 1, f"{len(train)} train, {len(test)} test")
    return train, test, cleaned.counts


def select_coreset(db, project_id: int, train: list[dict], recipe, workdir: Path,
                   reporter: Reporter, job_id) -> list[dict]:
    """Embed with MiniLM (mean pooling + L2), cluster with k-means, keep the
    record nearest each centroid."""
    import numpy as np

    from engine.select.embed import embed_texts
    from engine.select.kmeans_coreset import kmeans_coreset

    texts = [f"{r['prompt']}\n{r['response']}" for r in train]
    vectors = embed_texts(texts, reporter=reporter.for_stage("embed"))
    workdir.mkdir(parents=True, exist_ok=True)
    np.save(workdir / "embeddings.npy", vectors.astype(np.float16))
    runs.add_artifact(db, project_id, "embeddings", workdir / "embeddings.npy",
                      model="all-MiniLM-L6-v2", pooling="mean", normalised=True)
    budget = min(recipe.budget, len(train))
    selection = kmeans_coreset(vectors, budget, seed=recipe.seed)
    chosen = [train[i] for i in selection.indices]
    _store(db, project_id, "clinical-coreset", "selection", chosen, job_id,
           recipe={"method": "kmeans-nearest-centroid", "budget": budget,
                   "k": selection.k, "seed": recipe.seed, "embedding": "all-MiniLM-L6-v2"})
    reporter.for_stage("select").report(1, 1, f"{budget} of {len(train)} records selected")
    return chosen


def prepare(db: sqlite_utils.Database, project_id: int, workdir: Path, recipe,
            reporter: Reporter, job_id: int | None) -> PreparedData:
    """Generate the clinical export and take it through import, cleaning, split
    and coreset selection."""
    path = workdir / "clinical_export.jsonl"
    workdir.mkdir(parents=True, exist_ok=True)
    write_clinical(path, n=recipe.records, seed=recipe.seed)
    reporter.check_cancel()
    imported, result = import_file(db, project_id, path, reporter, job_id)
    reporter.check_cancel()
    train, test, counts = clean_and_split(db, project_id, imported, result.records,
                                          recipe, reporter, job_id)
    coreset = select_coreset(db, project_id, train, recipe, workdir, reporter, job_id)
    summary = {"records_in": result.lines, "records_valid": len(result.records),
               "records_quarantined": len(result.errors),
               "records_after_clean": len(train) + len(test), "clean_counts": counts,
               "train_records": len(train), "test_records": len(test),
               "selected": len(coreset)}
    return PreparedData(coreset, test[:recipe.max_test_records], summary)
