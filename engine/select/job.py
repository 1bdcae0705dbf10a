"""The selection stage: a dataset version + a recipe → a new, selected dataset version.

Embeds (through the cache), optionally drops near duplicates, runs the method,
measures coverage and stores the subset as a new version whose recipe holds
method, budget, seed, embedding model, metrics and the parent row positions.
The 2-D map (PCA of all rows, clusters, selected rows) is saved as an ``.npz``
artifact for the window.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlite_utils

from engine import paths
from engine.progress import Reporter, null_reporter
from engine.select import scores
from engine.select.cache import embed_cached, record_text
from engine.select.ifd import ifd_scores_cached
from engine.select.methods import AUTO, MethodInput, get_method, resolve_method, run_method
from engine.select.metrics import coverage, map_coordinates, reference_clusters
from engine.select.recipe import RecipeError, SelectionRecipe, resolve_budget
from engine.store import datasets, runs
from engine.versions import SELECT_PACKAGES, library_versions

MAP_KIND = "selection-map"


def pick_dataset(db: sqlite_utils.Database, project_id: int,
                 name: str | int | None = None) -> dict:
    """The dataset to select from: the version with id ``name`` (an int), the newest
    version of ``name`` (a str), or by default the newest version that is not itself a
    selection and not a test split.

    Raises:
        RecipeError: if the project has no such dataset, or it is held out for testing.
    """
    if isinstance(name, int):
        rows = [r for r in datasets.list_for_project(db, project_id) if r["id"] == name]
        if not rows:
            raise RecipeError(f"dataset: project {project_id} has no dataset {name}")
        if rows[0]["role"] not in (datasets.TRAIN, datasets.POOL):
            raise RecipeError(f"dataset: {rows[0]['name']} v{rows[0]['version']} is a "
                              f"{rows[0]['role']} set; choose a training set")
        return rows[0]
    if name is not None:
        rows = [r for r in datasets.list_for_project(db, project_id) if r["name"] == name]
        if not rows:
            raise RecipeError(f"dataset: project {project_id} has no dataset named {name!r}")
        if rows[-1]["role"] == datasets.TEST:
            raise RecipeError(f"dataset: {name!r} is held out for testing; a model must not "
                              "learn from it")
        return rows[-1]
    row = datasets.default_training(db, project_id, exclude_kinds=("selection", "review"))
    if row is None:
        raise RecipeError(f"dataset: project {project_id} has no dataset to select from; "
                          "import one first")
    return row


def selectable_datasets(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """Versions a selection may start from, newest first (the first is the default)."""
    return datasets.learnable(db, project_id, exclude_kinds=("selection", "review"))


def _record_hashes(db: sqlite_utils.Database, dataset_id: int) -> list[str]:
    return [row[0] for row in db.execute("SELECT content_hash FROM records WHERE dataset_id = ? "
                                         "ORDER BY position", [dataset_id]).fetchall()]


def record_labels(records: list[dict], required: bool) -> list[str] | None:
    """The ``label`` of every record; None when unlabelled and not ``required``.

    Raises:
        RecipeError: if labels are required and a record has none (names its line).
    """
    missing = [r for r in records if r.get("label") in (None, "")]
    if not missing:
        return [str(r["label"]) for r in records]
    if required:
        first = missing[0]
        where = f"line {first['_line']}" if first.get("_line") else "a record"
        raise RecipeError(f"method: a stratified method needs a 'label' on every record; "
                          f"{len(missing)} of {len(records)} have none (first: {where})")
    return None


def _scores(db, records, texts, vectors, labels, recipe, reporter) -> np.ndarray:

    name = scores.choose_score(recipe.quality_score, records)
    if name == "ifd":
        from engine.models.bundled import smollm2_folder

        folder = smollm2_folder(reporter.for_stage("model"))
        return ifd_scores_cached(db, records, folder, reporter.for_stage("score"))
    if name == "label-margin":
        if labels is None:
            raise RecipeError("quality_score: label-margin needs labelled records")
        return scores.label_margin_score(vectors, labels)
    return scores.length_score(texts)


def _embed(db, texts: list[str], recipe: SelectionRecipe, reporter: Reporter):

    folder = None
    if recipe.embedding == "llm":
        from engine.models.bundled import smollm2_folder

        folder = smollm2_folder(reporter.for_stage("model"))
    return embed_cached(db, texts, embedding=recipe.embedding, llm_folder=folder,
                        reporter=reporter.for_stage("embed"), precision=recipe.precision)



def _save_map(project_id: int, dataset_id: int, coords, clusters, selected) -> Path:
    folder = paths.project_dir(project_id) / "selections"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"dataset-{dataset_id}-map.npz"
    handle, temporary = tempfile.mkstemp(suffix=".npz", dir=folder)
    with os.fdopen(handle, "wb") as out:
        np.savez_compressed(out, coords=coords, clusters=clusters, selected=selected)
    os.replace(temporary, target)
    return target


def select_rows(db: sqlite_utils.Database, records: list[dict], recipe: SelectionRecipe,
                reporter: Reporter | None = None) -> dict:
    """Choose rows of ``records`` by the recipe (no dataset is written).

    Returns:
        A dict with ``indices`` (sorted rows), ``method`` (``auto`` resolved),
        ``budget``, ``vectors``, ``labels``,
        ``clusters`` (k-means label of every row, or the reference partition),
        ``embedding`` (model id), ``embedded``/``cached`` counts, ``dedup_kept``
        and ``metrics`` (see :func:`engine.select.metrics.coverage`).

    Raises:
        RecipeError: empty dataset, budget too large, unlabelled data for a stratified method.
        Cancelled: if cancel was asked for.
    """

    reporter = reporter or null_reporter()
    budget = resolve_budget(recipe.budget, len(records))
    labels = record_labels(records, recipe.method != AUTO
                           and get_method(recipe.method).needs_labels)
    method = resolve_method(recipe.method, labels)
    info = get_method(method)
    texts = [record_text(r) for r in records]
    embedded = _embed(db, texts, recipe, reporter)
    vectors = embedded.vectors
    pool = np.arange(len(records))
    if recipe.dedup > 0:
        from engine.select.dedup import semantic_dedup

        pool = semantic_dedup(vectors, recipe.dedup, recipe.seed)
        if budget > len(pool):
            raise RecipeError(f"budget: {budget} rows asked for, but only {len(pool)} remain "
                              f"after removing near duplicates (dedup {recipe.dedup})")
    reporter.check_cancel()
    scores = _scores(db, records, texts, vectors, labels, recipe, reporter) \
        if info.needs_scores else None
    reporter.for_stage("select").report(0, 1, f"{method}: choosing {budget} rows")
    chosen = run_method(method, MethodInput(
        vectors[pool], budget, recipe.seed, recipe.k,
        None if labels is None else [labels[i] for i in pool],
        None if scores is None else scores[pool],
        {"allocation": recipe.allocation, "knn": recipe.knn,
         "quality_weight": recipe.quality_weight}))
    indices = np.sort(pool[chosen.indices])
    reference = reference_clusters(vectors, budget)
    metrics = coverage(vectors, indices, labels, reference)
    clusters = chosen.labels if chosen.k and len(pool) == len(records) else reference
    reporter.for_stage("select").report(1, 1, f"{budget} of {len(records)} rows selected")
    return {"indices": indices, "method": method, "budget": budget, "vectors": vectors,
            "labels": labels,
            "clusters": clusters, "embedding": embedded.model, "embedded": embedded.embedded,
            "cached": embedded.cached, "dedup_kept": int(len(pool)), "metrics": metrics}


def run_selection(db: sqlite_utils.Database, project_id: int, recipe: SelectionRecipe, *,
                  dataset: str | int | None = None, reporter: Reporter | None = None,
                  job_id: int | None = None) -> dict:
    """Select from a project's dataset and store the subset as a new version.

    Args:
        db: the workspace store.
        project_id: the project.
        recipe: what to select.
        dataset: dataset id, or name (newest version); default see :func:`pick_dataset`.
        reporter: progress and cancel.
        job_id: the job that runs this, recorded with the new version.

    Returns:
        A JSON-serialisable summary: new ``dataset_id``, ``parent_id``, sizes,
        ``metrics``, ``embedded``/``cached`` counts, ``map_path`` and ``seconds``.

    Raises:
        RecipeError: for a bad recipe or input (see :func:`select_rows`).
        Cancelled: if cancel was asked for (nothing is written).
    """
    started = time.perf_counter()
    reporter = reporter or null_reporter()
    parent = pick_dataset(db, project_id, dataset)
    records = datasets.records(db, parent["id"])
    result = select_rows(db, records, recipe, reporter)
    reporter.check_cancel()
    indices = result["indices"]
    hashes = _record_hashes(db, parent["id"])
    provenance = {**recipe.to_dict(), "method_used": result["method"],
                  "budget_rows": result["budget"],
                  "embedding_model": result["embedding"], "parent_rows": len(records),
                  "parent_positions": indices.tolist(), "metrics": result["metrics"],
                  "dedup_kept": result["dedup_kept"], "versions": library_versions(SELECT_PACKAGES),
                  "parent_content_hash": parent["content_hash"]}
    new_id = datasets.add_version(db, project_id, f"{parent['name']}-coreset", "selection",
                                  [records[i] for i in indices], [hashes[i] for i in indices],
                                  role=datasets.TRAIN, parent_id=parent["id"],
                                  recipe=provenance, job_id=job_id)

    coords = map_coordinates(result["vectors"], recipe.seed)
    map_path = _save_map(project_id, new_id, coords, result["clusters"], indices)
    runs.add_artifact(db, project_id, MAP_KIND, map_path, dataset_id=new_id,
                      parent_id=parent["id"])
    return {"dataset_id": new_id, "parent_id": parent["id"], "parent_name": parent["name"],
            "method": result["method"], "budget": result["budget"], "rows": len(records),
            "seed": recipe.seed, "embedding": result["embedding"],
            "embedded": result["embedded"], "cached": result["cached"],
            "dedup_kept": result["dedup_kept"], "metrics": result["metrics"],
            "map_path": str(map_path), "seconds": round(time.perf_counter() - started, 2)}


def run_select_job(ctx) -> dict:
    """Job entry point. Params: ``recipe`` (dict of :class:`SelectionRecipe` fields),
    optional ``dataset_id`` (the exact version) or ``dataset`` (name, newest version)."""
    if ctx.project_id is None:
        raise RecipeError("a selection job needs a project")
    recipe = SelectionRecipe.from_dict(ctx.params.get("recipe", {}))
    dataset = ctx.params.get("dataset_id")
    dataset = int(dataset) if dataset is not None else ctx.params.get("dataset")
    return run_selection(ctx.db, ctx.project_id, recipe, dataset=dataset,
                         reporter=ctx.reporter, job_id=ctx.job_id)


def load_map(path: str | Path) -> dict[str, np.ndarray]:
    """The saved map of a selection: ``coords``, ``clusters``, ``selected``."""
    with np.load(path) as data:
        return {key: data[key] for key in ("coords", "clusters", "selected")}
