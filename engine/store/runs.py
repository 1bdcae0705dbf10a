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
