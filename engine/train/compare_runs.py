"""Several training runs side by side: their curves, figures, recipe differences, ranking.

What the Compare tab shows, computed without Qt: the loss and eval-loss points of each run,
one row of summary figures per run with the best value of each column marked, the recipe
fields whose values differ between the runs (what a search varied), and the runs ranked as
training-search trials are (:func:`engine.train.search.rank_trials`: eval loss, else final
loss; lower is better; failed or unfinished runs last).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from engine.store import runs
from engine.train.search import rank_trials

# column → (title, lower is better)
FIGURES: dict[str, tuple[str, bool]] = {
    "loss_end": ("final loss", True),
    "eval_loss": ("eval loss", True),
    "steps": ("steps", False),
    "seconds": ("seconds", True),
    "tokens_per_s": ("tokens/s", False),
}
RANKED_FIGURES = ("loss_end", "eval_loss", "seconds", "tokens_per_s")
CURVE_NAMES = ("loss", "eval_loss")
TRAIN_KINDS = ("train", "train.dpo")


@dataclass
class RunComparison:
    """Everything the Compare tab shows about a set of runs.

    Attributes:
        rows: per run ``{"run_id", "name", "state", figures…, recipe fields…}``, in the
            order asked for.
        differing: flattened recipe fields (``train.learning_rate``) whose values differ.
        best: column → the run id holding its best value (only among two or more values).
        curves: run id → metric name → ``[(step, value), …]``.
        ranked: the rows ranked as search trials (``rank``, ``best`` added).
    """

    rows: list[dict] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    best: dict[str, int] = field(default_factory=dict)
    curves: dict[int, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)
    ranked: list[dict] = field(default_factory=list)


def flatten(recipe: dict, prefix: str = "") -> dict[str, Any]:
    """``{"train": {"rank": 8}}`` → ``{"train.rank": 8}`` (lists kept as values)."""
    flat: dict[str, Any] = {}
    for key, value in recipe.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def differing_fields(recipes: list[dict[str, Any]]) -> list[str]:
    """Flattened fields whose values are not the same in every recipe (missing counts)."""
    names = sorted({name for recipe in recipes for name in recipe})
    return [name for name in names
            if len({json.dumps(r.get(name), sort_keys=True, default=str) for r in recipes}) > 1]


def best_values(rows: list[dict]) -> dict[str, int]:
    """Column → run id with the best value, for columns where two or more runs have one."""
    best = {}
    for column, (_title, lower) in FIGURES.items():
        if column not in RANKED_FIGURES:
            continue
        valued = [(row[column], row["run_id"]) for row in rows
                  if isinstance(row.get(column), (int, float))]
        if len(valued) >= 2:
            best[column] = (min(valued) if lower else max(valued))[1]
    return best


def _state(db: sqlite_utils.Database, job_id: int | None) -> str:
    if job_id is None:
        return "succeeded"
    found = db.execute("SELECT state FROM jobs WHERE id = ?", [job_id]).fetchone()
    return found[0] if found else "succeeded"


def compare_runs(db: sqlite_utils.Database, run_ids: list[int]) -> RunComparison:
    """Compare training runs of one workspace.

    Raises:
        KeyError: naming a run id that does not exist.
    """
    rows, recipes, curves = [], [], {}
    for run_id in run_ids:
        found = list(db["runs"].rows_where("id = ?", [run_id]))
        if not found:
            raise KeyError(f"run {run_id} does not exist")
        row = found[0]
        summary = json.loads(row["summary"] or "{}")
        recipe = flatten(json.loads(row["recipe"] or "{}"))
        recipes.append(recipe)
        rows.append({**recipe, "run_id": run_id, "name": row["name"], "trial": run_id,
                     "state": _state(db, row["job_id"]),
                     **{k: summary.get(k) for k in FIGURES}})
        curves[run_id] = {name: runs.series(db, run_id, name) for name in CURVE_NAMES}
    differing = differing_fields(recipes)
    ranked = rank_trials([dict(row) for row in rows], "eval_loss")
    return RunComparison(rows, differing, best_values(rows), curves, ranked)


def comparable_runs(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """A project's training runs, newest first, with a picker label and their state."""
    out = []
    for row in runs.list_for_project(db, project_id):
        if row["kind"] not in TRAIN_KINDS:
            continue
        row["state"] = _state(db, row["job_id"])
        row["label"] = runs.run_label(db, row)
        out.append(row)
    return out
