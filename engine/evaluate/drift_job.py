"""A drift check as a stored run: new data against the project's training data, and
optionally the tuned model's perplexity on the new data against its last evaluation."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from engine.data.file_records import read_records
from engine.data.privacy import redact_records
from engine.evaluate import sources
from engine.evaluate.drift import detect_drift, model_drift
from engine.evaluate.job import load_side
from engine.jobs.registry import JobContext
from engine.metrics.perplexity import perplexity
from engine.progress import Reporter
from engine.store import projects, runs


def read_new_records(path: str | Path, task: str) -> list[dict]:
    """Valid records of a file (any format the importer reads) for the project's task.

    Raises:
        ValueError: naming file, line and field of the first bad record.
    """
    result = read_records(Path(path), task)
    if result.errors:
        raise ValueError(result.first_problem())
    return result.records


def _last_tuned_perplexity(db: sqlite_utils.Database, project_id: int,
                           train_run_id: int) -> float | None:
    for run in runs.list_for_project(db, project_id):
        if run["kind"] == "evaluate" and run["summary"].get("source_run") == train_run_id:
            return run["summary"].get("sides", {}).get("tuned", {}).get("perplexity")
    return None


def _model_drift(db, project_id: int, train_run_id: int, records: list[dict],
                 reporter: Reporter) -> dict | None:

    previous = _last_tuned_perplexity(db, project_id, train_run_id)
    if previous is None:
        return None
    model, tokenizer = load_side(sources.model_sides(db, train_run_id)["tuned"])
    current = perplexity(model, tokenizer, records, reporter=reporter.for_stage("ppl new"))
    return model_drift(previous, current.ppl)


def run_drift(db: sqlite_utils.Database, project_id: int, new_file: str,
              reporter: Reporter, *, label_field: str | None = None,
              train_run_id: int | None = None, job_id: int | None = None) -> dict:
    """Check ``new_file`` for drift against the training data (the run's, else the
    project's newest training set). When the project redacts, the new records are
    redacted first, like its training data, so the driving samples hold no identifier.

    Returns:
        The stored ``drift`` run's summary: the :class:`DriftResult` fields, ``model``
        (or None) and ``drift_run_id``.

    Raises:
        ValueError: on bad records or a project without training data.
    """

    task = projects.get(db, project_id)["task"]
    new = redact_records(db, project_id, read_new_records(new_file, task))
    reference = sources.training_records(db, project_id, train_run_id)
    if not reference:
        raise ValueError("the project has no training data to compare with; import a file first")
    if label_field is None:
        label_field = "label" if task == "classification" else "kind"
    result = detect_drift(reference, new, label_field=label_field, reporter=reporter)
    summary = {"file": str(new_file), **result.to_dict(), "model": None}
    if train_run_id is not None and task == "instruction":
        summary["model"] = _model_drift(db, project_id, train_run_id, new, reporter)
        if summary["model"] and summary["model"]["drifted"]:
            summary["drifted"] = True
            summary["reasons"].append("the tuned model's perplexity on the new data rose by "
                                      f"{summary['model']['relative_worsening']:.0%}")
    run_id = runs.create(db, project_id, "drift", f"drift {Path(new_file).name}",
                         {"file": str(new_file), "label_field": label_field,
                          "train_run": train_run_id}, job_id)
    summary["drift_run_id"] = run_id
    runs.set_summary(db, run_id, summary)
    return summary


def drift_job(ctx: JobContext) -> dict:
    """Job entry point: params ``file``, optional ``label_field`` and ``run_id``."""
    return run_drift(ctx.db, ctx.project_id, ctx.params["file"], ctx.reporter,
                     label_field=ctx.params.get("label_field"),
                     train_run_id=ctx.params.get("run_id"), job_id=ctx.job_id)
