"""Runs (a training, a compression, an evaluation), their step metrics and artifacts."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import sqlite_utils

from engine.store import audit


def create(db: sqlite_utils.Database, project_id: int, kind: str, name: str,
           recipe: dict | None = None, job_id: int | None = None) -> int:
    """Start a run row and return its id."""
    return db["runs"].insert({"project_id": project_id, "job_id": job_id, "kind": kind,
                              "name": name, "recipe": json.dumps(recipe or {}, default=str),
                              "summary": "{}", "created_at": audit.now()}).last_pk


def set_summary(db: sqlite_utils.Database, run_id: int, summary: dict) -> None:
    """Store the final figures of a run."""
    db["runs"].update(run_id, {"summary": json.dumps(summary, default=str)})


def log_metric(db: sqlite_utils.Database, run_id: int, name: str, step: int,
               value: float) -> None:
    """Append one point of a step series (loss, lr, tokens/s...)."""
    db["metrics"].insert({"run_id": run_id, "name": name, "step": step,
                          "value": float(value), "time": time.time()})


def series(db: sqlite_utils.Database, run_id: int, name: str) -> list[tuple[int, float]]:
    """The (step, value) points of one metric, in step order."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT step, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step, id",
        [run_id, name]).fetchall()]


def list_for_project(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """Runs of a project, newest first, with summaries decoded."""
    rows = list(db["runs"].rows_where("project_id = ?", [project_id], order_by="id desc"))
    for row in rows:
        row["summary"] = json.loads(row["summary"] or "{}")
    return rows


def sha256_of(path: Path) -> str:
    """Hash of a file, or of every file of a folder in name order."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() \
        else [Path(path)]
    for file in files:
        digest.update(file.name.encode())
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def add_artifact(db: sqlite_utils.Database, project_id: int, kind: str, path: Path,
                 run_id: int | None = None, **meta: object) -> int:
    """Record a file or folder on disk by path + sha256 + size."""
    path = Path(path)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) \
        if path.is_dir() else path.stat().st_size
    return db["artifacts"].insert({"project_id": project_id, "run_id": run_id, "kind": kind,
                                   "path": str(path), "sha256": sha256_of(path),
                                   "size_bytes": size, "meta": json.dumps(meta, default=str),
                                   "created_at": audit.now()}).last_pk


def artifacts(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """Artifacts of a project, oldest first."""
    return list(db["artifacts"].rows_where("project_id = ?", [project_id], order_by="id"))


# ----- runs a window or command may pick -------------------------------------------------

MODEL_ARTIFACTS = ("merged-model", "lora-adapter", "model", "compressed-model")
FINISHED = "finished"


def usable_runs(db: sqlite_utils.Database, project_id: int,
                kinds: tuple[str, ...] = ("train",)) -> list[dict]:
    """Runs of ``kinds`` that finished with something to use, newest first.

    A run counts when its job succeeded (or it was recorded outside any job) and it left
    a model on disk (an artifact of :data:`MODEL_ARTIFACTS` whose path exists) or, for an
    evaluation, its generated outputs. A cancelled, failed or interrupted run never counts.

    Args:
        db: the workspace store.
        project_id: the project.
        kinds: run kinds to offer ("train", "compress", "evaluate").

    Returns:
        Run rows (summary decoded) with ``state`` and a display ``label`` (see
        :func:`run_label`).
    """
    usable = []
    for row in list_for_project(db, project_id):
        if row["kind"] not in kinds or _job_state(db, row["job_id"]) not in (None, "succeeded"):
            continue
        if not (_has_outputs(db, row["id"]) if row["kind"] == "evaluate"
                else _has_model(db, row["id"])):
            continue
        row["state"] = FINISHED
        row["label"] = run_label(db, row)
        usable.append(row)
    return usable


def run_label(db: sqlite_utils.Database, row: dict) -> str:
    """``Run 7: lora · clinical-train v2 · finished · 2025-03-01 14:02`` — what a picker shows
    for a run: its method (or what it did), the data it used, its state and its date."""
    recipe = json.loads(row["recipe"] or "{}") if isinstance(row["recipe"], str) \
        else row["recipe"] or {}
    summary = row["summary"] if isinstance(row["summary"], dict) \
        else json.loads(row["summary"] or "{}")
    if row["kind"] == "evaluate":
        what = f"evaluation of run {summary.get('source_run', '?')}"
        data = f"{summary.get('items', '?')} items of {summary.get('test') or 'test data'}"
    else:
        what = summary.get("label") or (recipe.get("train") or {}).get("method") \
            or recipe.get("method") or row["name"]
        data = _dataset_text(db, recipe)
    date = str(row.get("created_at") or "")[:16].replace("T", " ")
    parts = [what, data, row.get("state") or FINISHED, date]
    return f"Run {row['id']}: " + " · ".join(p for p in parts if p)


def _dataset_text(db: sqlite_utils.Database, recipe: dict) -> str:
    """``name vN`` of the dataset a run used (following source and start runs)."""
    seen: set[int] = set()
    while recipe:
        dataset_id = recipe.get("dataset_id")
        if dataset_id is not None:
            found = db.execute("SELECT name, version FROM datasets WHERE id = ?",
                               [dataset_id]).fetchone()
            return f"{found[0]} v{found[1]}" if found else ""
        parent = recipe.get("source_run_id") or recipe.get("from_run")
        if parent is None or parent in seen:
            return ""
        seen.add(parent)
        found = db.execute("SELECT recipe FROM runs WHERE id = ?", [parent]).fetchone()
        recipe = json.loads(found[0] or "{}") if found else {}
    return ""


def _job_state(db: sqlite_utils.Database, job_id: int | None) -> str | None:
    if job_id is None:
        return None
    found = db.execute("SELECT state FROM jobs WHERE id = ?", [job_id]).fetchone()
    return found[0] if found else None


def _has_model(db: sqlite_utils.Database, run_id: int) -> bool:
    marks = ",".join("?" * len(MODEL_ARTIFACTS))
    paths = db.execute(f"SELECT path FROM artifacts WHERE run_id = ? AND kind IN ({marks})",
                       [run_id, *MODEL_ARTIFACTS]).fetchall()
    return any(Path(path).exists() for (path,) in paths)


def _has_outputs(db: sqlite_utils.Database, run_id: int) -> bool:
    return db.execute("SELECT 1 FROM eval_outputs WHERE run_id = ? LIMIT 1",
                      [run_id]).fetchone() is not None
