"""Small reads the window (and the CLI) need, with JSON columns decoded here, once.

Callers never reach into tables (``db["runs"]``) nor decode ``recipe``/``summary``/``meta``
columns themselves.
"""

from __future__ import annotations

import json

import sqlite_utils

from engine.store.datasets import VISIBLE


def _decoded(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def run(db: sqlite_utils.Database, run_id: int) -> dict | None:
    """One run with ``recipe`` and ``summary`` decoded, or None when there is none."""
    row = next(iter(db["runs"].rows_where("id = ?", [run_id])), None)
    if row is None:
        return None
    return {**row, "recipe": _decoded(row["recipe"]), "summary": _decoded(row["summary"])}


def run_summary(db: sqlite_utils.Database, run_id: int) -> dict:
    """A run's summary (empty when the run does not exist)."""
    row = run(db, run_id)
    return row["summary"] if row else {}


def train_method(db: sqlite_utils.Database, run_id: int) -> str:
    """The method a training run used (``lora`` when its recipe does not say)."""
    row = run(db, run_id)
    return ((row or {}).get("recipe") or {}).get("train", {}).get("method", "lora")


def compress_summaries(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """Summaries of a project's compression runs, oldest first."""
    return [_decoded(r["summary"]) for r in db["runs"].rows_where(
        "kind = 'compress' AND project_id = ?", [project_id], order_by="id")]


def runs_of_kind(db: sqlite_utils.Database, project_id: int, kind: str) -> list[dict]:
    """A project's runs of one kind, newest first, ``recipe`` and ``summary`` decoded."""
    return [{**r, "recipe": _decoded(r["recipe"]), "summary": _decoded(r["summary"])}
            for r in db["runs"].rows_where("project_id = ? AND kind = ?", [project_id, kind],
                                           order_by="id desc")]


def record_count(db: sqlite_utils.Database, dataset_id: int | None) -> int:
    """How many records a dataset version holds (0 when there is none)."""
    if dataset_id is None:
        return 0
    row = db.execute("SELECT record_count FROM datasets WHERE id = ?", [dataset_id]).fetchone()
    return int(row[0] or 0) if row else 0


def dataset_recipe(db: sqlite_utils.Database, dataset_id: int) -> dict:
    """The recipe stored with a dataset version, decoded."""
    row = db.execute("SELECT recipe FROM datasets WHERE id = ?", [dataset_id]).fetchone()
    return _decoded(row[0]) if row else {}


def artifact_path(db: sqlite_utils.Database, project_id: int, kind: str,
                  **meta: object) -> str | None:
    """The newest artifact of ``kind`` whose meta holds every ``meta`` item, or None."""
    rows = db.execute("SELECT path, meta FROM artifacts WHERE project_id = ? AND kind = ? "
                      "ORDER BY id DESC", [project_id, kind]).fetchall()
    for path, text in rows:
        stored = _decoded(text)
        if all(stored.get(key) == value for key, value in meta.items()):
            return path
    return None


def quarantine_page(db: sqlite_utils.Database, project_id: int,
                    limit: int = 500) -> tuple[list[dict], int]:
    """The first ``limit`` quarantined rows of a project's published datasets and how many
    there are in all (only ``limit`` rows are read)."""
    where = ("FROM quarantine q JOIN datasets d ON d.id = q.dataset_id "
             "WHERE d.project_id = ? AND d.state = 'published'")
    total = db.execute(f"SELECT COUNT(*) {where}", [project_id]).fetchone()[0]
    rows = db.execute(f"SELECT q.line, q.field, q.reason {where} ORDER BY q.id LIMIT ?",
                      [project_id, limit]).fetchall()
    return [{"line": r[0], "field": r[1], "reason": r[2]} for r in rows], int(total)


_BROUGHT_KINDS = ("import", "split", "clean")  # versions of the data the user brought


def data_size(db: sqlite_utils.Database, project_id: int) -> dict:
    """Records of a project for sizing presets: ``newest`` is the newest version of the data
    the user brought (imported, split or cleaned; role pool or train; not a coreset or a set
    of review corrections made from it), ``test`` the newest held-out test split."""
    rows = db.execute(f"SELECT role, kind, record_count FROM datasets WHERE project_id = ? AND "
                      f"{VISIBLE} ORDER BY id", [project_id]).fetchall()
    sizes = {role: int(count or 0) for role, _, count in rows}
    learnable = [int(count or 0) for role, kind, count in rows
                 if role in ("pool", "train") and kind in _BROUGHT_KINDS]
    return {"newest": learnable[-1] if learnable else 0, "test": sizes.get("test", 0)}


CLOCK_RESOLUTION_S = 1.0  # job start and end times are written to the second

# What one unit of work is, per job kind, read from a finished job's result.
_RATE_UNITS = {
    "data.import": ("import", lambda r: r.get("records")),
    "data.clean": ("clean", lambda r: r.get("records_in")),
    "select": ("select", lambda r: (r.get("embedded") or 0) + (r.get("cached") or 0)),
    "train": ("train", lambda r: r.get("steps")),
    "evaluate": ("evaluate", lambda r: r.get("items")),
}


def measured_rates(db: sqlite_utils.Database, limit: int = 200) -> dict[str, float]:
    """Seconds per unit of work measured on this machine, by guided step (``import``: per
    record, ``clean``: per record in, ``select``: per example embedded, ``train``: per step,
    ``evaluate``: per item), from the newest succeeded jobs of every project (the newest
    job of each kind wins)."""
    from datetime import datetime

    rows = db.execute(
        "SELECT kind, started_at, finished_at, result FROM jobs WHERE state = 'succeeded' "
        "AND started_at IS NOT NULL AND finished_at IS NOT NULL AND kind IN "
        f"({','.join('?' * len(_RATE_UNITS))}) ORDER BY id DESC LIMIT ?",
        [*_RATE_UNITS, limit]).fetchall()
    rates: dict[str, float] = {}
    for kind, started, finished, result in rows:
        step, units_of = _RATE_UNITS[kind]
        if step in rates:
            continue
        units = units_of(_decoded(result))
        try:
            seconds = (datetime.fromisoformat(finished)
                       - datetime.fromisoformat(started)).total_seconds()
        except (TypeError, ValueError):
            continue
        if units and seconds >= 0:
            # times are kept to the second: a job that began and ended on the same one
            # took half a second, give or take
            rates[step] = max(seconds, CLOCK_RESOLUTION_S / 2) / float(units)
    return rates


def path_progress(db: sqlite_utils.Database, project_id: int) -> dict[str, bool]:
    """Which steps of the guided path a project has done: ``data`` (a version was imported),
    ``clean``, ``select``, ``train``, ``evaluate`` and ``export`` (a job of that kind
    succeeded, or its output is stored)."""
    kinds = {row[0] for row in db.execute(
        "SELECT DISTINCT kind FROM jobs WHERE project_id = ? AND state = 'succeeded'",
        [project_id]).fetchall()}
    runs = {row[0] for row in db.execute(
        "SELECT DISTINCT kind FROM runs WHERE project_id = ?", [project_id]).fetchall()}
    versions = {row[0] for row in db.execute(
        f"SELECT DISTINCT kind FROM datasets WHERE project_id = ? AND {VISIBLE}",
        [project_id]).fetchall()}
    return {"data": bool(versions), "clean": "data.clean" in runs or "data.clean" in kinds,
            "select": "selection" in versions, "train": "train" in runs,
            "evaluate": "evaluate" in runs, "export": bool(kinds & {"export", "compress"})}
