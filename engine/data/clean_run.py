"""A cleaning run: the training split (and the test split) of an import → new versions + a report.

The run streams the input version from the store batch by batch and writes two
new versions (``<name>-clean`` from the training split, ``<name>-test-clean``
from the test split, which only gets normalisation and redaction), each linked
to its parent and to the recipe, plus a ``data.clean`` run whose summary is the
quality report. The versions are written in committed batches while "building"
(invisible) and published with the run in one short transaction at the end; a cancel
or an error removes them, so the project is as it was. The import is never changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator

import sqlite_utils

from engine import paths
from engine.data.clean_recipe import CleanRecipe
from engine.data.cleaner import STEP_NAMES, Cleaner, safe_text
from engine.data.label_checks import label_findings, likely_mislabelled
from engine.data.prepare import PreparePool
from engine.data.records import content_hash
from engine.data.redaction_policy import project_policy
from engine.data.report import histogram
from engine.data.text_fix import record_text
from engine.progress import Reporter
from engine.store import dataset_stream, datasets, runs
from engine.store.transactions import transaction

BATCH = 5000


class CleanError(ValueError):
    """A cleaning run that cannot start (no imported data, wrong dataset)."""


@dataclass
class CleanOutcome:
    """The new versions and the report of a cleaning run."""

    train_id: int
    test_id: int | None
    run_id: int
    report: dict


def find_inputs(db: sqlite_utils.Database, project_id: int,
                dataset_id: int | None = None) -> tuple[dict, dict | None, dict]:
    """The training split to clean, its test sibling, and the import they came from.

    Args:
        dataset_id: A training split (or an import without split); default: the newest
            training split of the project.

    Raises:
        CleanError: If the project has no imported data or the dataset is not its own.
    """
    rows = datasets.list_for_project(db, project_id)
    if dataset_id is None:
        train = datasets.default_training(db, project_id,
                                          exclude_kinds=("clean", "selection", "review"))
        if train is None:
            raise CleanError("the project has no imported data yet; import a file first")
    else:
        train = next((r for r in rows if r["id"] == dataset_id), None)
        if train is None:
            raise CleanError(f"dataset {dataset_id} is not part of project {project_id}")
        if train["role"] not in (datasets.TRAIN, datasets.POOL):
            raise CleanError(f"dataset {train['name']} v{train['version']} is held out for "
                             "testing; clean its training split instead")
    test = datasets.held_out_for(db, train["id"])
    source = datasets.lineage(db, train["id"])[-1]
    return train, test, source


def run_clean(db: sqlite_utils.Database, project_id: int, recipe: CleanRecipe, *,
              dataset_id: int | None = None, reporter: Reporter | None = None,
              job_id: int | None = None) -> CleanOutcome:
    """Clean a project's training split with a recipe.

    Args:
        db: The workspace store.
        project_id: The project.
        recipe: What to do.
        dataset_id: The version to clean (default: the newest training split).
        reporter: Progress and cancel.
        job_id: The job running it, if any.

    Returns:
        The new version ids, the run id and the report.

    Raises:
        CleanError: If there is nothing to clean.
        ValueError: If the tokenizer cannot be loaded.
        Cancelled: If the user stopped it; nothing is written.
    """
    reporter = reporter or Reporter(stage="clean")
    train, test, source = find_inputs(db, project_id, dataset_id)
    task = json.loads(source["recipe"]).get("task", "instruction")
    key = None
    if recipe.redaction == "pseudonym":
        from engine.data.phi.redact import project_secret
        key = project_secret(paths.project_dir(project_id))
    policy = project_policy(db, project_id)
    cleaner = Cleaner(recipe, task, key, policy)
    base, made = source["name"], []
    try:
        test_id = _clean_test(db, project_id, test, cleaner, task, recipe, job_id, base, made)
        writer = dataset_stream.VersionWriter(db, project_id, f"{base}-clean", "clean",
                                              role=datasets.TRAIN, parent_id=train["id"],
                                              job_id=job_id,
                                              recipe={"clean": recipe.to_dict(), "task": task})
        made.append(writer.dataset_id)
        pool = _clean_train(db, cleaner, train, writer, task, reporter)
        report = _report(db, cleaner, train, test, writer, test_id, task, reporter)
        report["workers"] = {"processes": pool.workers, "cpu_seconds": round(pool.worker_cpu_seconds, 2)}
        train_id = writer.finish(step_counts=report["counts"], test_id=test_id)
        reporter.check_cancel()
        with transaction(db):
            datasets.publish(db, made)
            run_id = runs.create(db, project_id, "data.clean", f"{base}-clean v{train_id}",
                                 recipe.to_dict(), job_id)
            runs.set_summary(db, run_id, report)
    except BaseException:
        datasets.discard(db, made)
        raise
    total = train["record_count"]
    reporter.report(total, total, f"{writer.count} of {total} records kept")
    return CleanOutcome(train_id, test_id, run_id, report)


def _clean_train(db, cleaner: Cleaner, train: dict, writer, task: str,
                 reporter: Reporter) -> PreparePool:
    total, done = train["record_count"], 0
    with PreparePool(cleaner.preparer, total) as pool:
        for batch, prepared in pool.stream(_batches(db, train["id"])):
            kept = cleaner.filter_batch(batch, prepared)
            writer.append(kept, [content_hash(r, task) for r in kept])
            done += len(batch)
            reporter.report(done, total, f"{writer.count} kept of {done}")
            reporter.check_cancel()
    return pool


def _batches(db, dataset_id: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for _, record, _ in dataset_stream.iter_records(db, dataset_id):
        batch.append(record)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _clean_test(db, project_id, test, cleaner: Cleaner, task, recipe, job_id, base,
                made: list[int]) -> int | None:
    if test is None:
        return None
    writer = dataset_stream.VersionWriter(db, project_id, f"{base}-test-clean", "clean",
                                          role=datasets.TEST, parent_id=test["id"], job_id=job_id,
                                          recipe={"clean": recipe.to_dict(), "task": task,
                                                  "steps": "normalise and redaction only"})
    made.append(writer.dataset_id)
    for batch in _batches(db, test["id"]):
        fixed = [record for record in map(cleaner.transform, batch) if record is not None]
        for record in fixed:
            cleaner.add_test(record)
        writer.append(fixed, [content_hash(record, task) for record in fixed])
    return writer.finish(part="test")


def _report(db, cleaner: Cleaner, train, test, writer, test_id, task, reporter) -> dict:
    log = cleaner.log
    kept_texts = _texts_at(db, writer.dataset_id, sorted(log.clusters))
    report = {
        "input": {"dataset_id": train["id"], "records": train["record_count"],
                  "test_dataset_id": test["id"] if test else None},
        "output": {"dataset_id": writer.dataset_id, "records": writer.count, "test_dataset_id": test_id},
        "task": task,
        "counts": {name: log.counts.get(name, 0) for name in STEP_NAMES},
        "examples": log.examples,
        "clusters": [{"kept_position": p, "kept_text": kept_texts.get(p, ""), "removed": members}
                     for p, members in sorted(log.clusters.items())],
        "phi_counts": dict(log.phi_counts.most_common()),
        "redaction": cleaner.recipe.redaction,
        "redaction_policy": cleaner.preparer.policy,
        "length_unit": cleaner.length_unit,
        "lengths": histogram(cleaner.lengths_before, cleaner.lengths_after),
    }
    if task == "classification" and cleaner.recipe.label_checks:
        report["labels"] = _label_report(db, cleaner, train, writer, reporter)
    return report


def _texts_at(db, dataset_id: int, positions: list[int]) -> dict[int, str]:
    if not positions:
        return {}
    marks = ",".join("?" * len(positions))
    rows = db.execute(f"SELECT position, data FROM records WHERE dataset_id = ? AND position IN ({marks})",
                      [dataset_id, *positions]).fetchall()
    return {p: safe_text(record_text(json.loads(d))) for p, d in rows}


def _label_report(db, cleaner: Cleaner, train, writer, reporter) -> dict:

    recipe = cleaner.recipe
    before = [r.get("label") for _, r, _ in dataset_stream.iter_records(db, train["id"])]
    kept = [r for _, r, _ in dataset_stream.iter_records(db, writer.dataset_id)]
    allowed = {x.strip() for x in recipe.allowed_labels.split(",") if x.strip()}
    findings = label_findings([r["label"] for r in kept], allowed, recipe.min_label_count)
    findings["before"] = label_findings(before, allowed, recipe.min_label_count)["counts"]
    findings["suspects"] = []
    if recipe.mislabel_check and len(kept) >= 10:
        sample = kept[:recipe.mislabel_max_records]
        suspects = likely_mislabelled([record_text(r) for r in sample], [r["label"] for r in sample],
                                      recipe.seed, reporter.for_stage("embed"))
        findings["suspects"] = [{**s, "line": sample[s["index"]].get("_line"),
                                 "text": safe_text(record_text(sample[s["index"]]))}
                                for s in suspects[:50]]
        findings["suspect_count"] = len(suspects)
    return findings
