"""The demo pipeline: one real pass through every stage on the bundled models.

import (with the held-out test split) → clean (repair, redact, de-duplicate) →
select (k-means coreset over cached embeddings) → LoRA → merge → 8-bit →
perplexity of base, tuned and tuned-8-bit. Every stage writes its outputs to the
store; the summary is stored on the run and returned.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import sqlite_utils

from engine import paths
from engine.config import Recipe, option
from engine.demo.stages import data_stages, model_stages
from engine.jobs.registry import JobContext
from engine.progress import Reporter
from engine.store import projects, runs


@dataclass
class DemoRecipe(Recipe):
    """What the demo does; ``quick()`` makes the tiny version used by tests."""

    SECTION = "demo"

    records: int = option(2400, "clinical records generated", min=10)
    test_fraction: float = option(0.05, "share held out for testing (the demo's own, smaller "
                                  "than an import's default: its set is generated)",
                                  min=0, max=1, max_open=True)
    max_test_records: int = option(48, "test records scored", min=1)
    budget: int = option(96, "records kept by the coreset", min=1)
    epochs: int = option(2, "passes over the coreset", min=1)
    batch_size: int = option(4, "records per optimizer step", min=1)
    max_length: int = option(192, "tokens per record", min=16)
    learning_rate: float = option(5e-4, "LoRA learning rate (higher than a real run's: "
                                  "few steps)", min=0, min_open=True)
    max_words: int = option(400, "longer records are dropped", min=1)
    seed: int = option(0, "seed of every random choice", min=0)

    @classmethod
    def quick(cls) -> "DemoRecipe":
        """A tiny run (about a minute on 2 cores) that still touches every stage."""
        return cls(records=240, test_fraction=0.1, max_test_records=12, budget=16,
                   epochs=1, max_length=128)


def ensure_project(db: sqlite_utils.Database, project_id: int | None) -> int:
    """The given project, or a new "Demo" project."""
    if project_id is not None:
        return projects.get(db, project_id)["id"]
    name, number = "Demo", 1
    while projects.find(db, name):
        number += 1
        name = f"Demo {number}"
    return projects.create(db, name, "Clinical instruction demo", task="instruction")


def run_demo(db: sqlite_utils.Database, project_id: int, recipe: DemoRecipe,
             reporter: Reporter, job_id: int | None = None) -> dict:
    """Run every stage of the demo on ``project_id`` and return its summary.

    Raises:
        Cancelled: when the reporter's stop flag is raised (the store keeps what
            finished stages wrote; the running stage writes nothing).
    """
    started = time.time()
    workdir = paths.project_dir(project_id) / f"demo-{job_id or int(started)}"
    data = data_stages.prepare(db, project_id, workdir, recipe, reporter, job_id)
    run_id = runs.create(db, project_id, "train", "demo LoRA",
                         {**asdict(recipe), "dataset_id": data.summary["coreset_id"]}, job_id)
    summary = {**data.summary,
               **model_stages.tune_and_measure(db, project_id, run_id, workdir, data,
                                               recipe, reporter)}
    summary["wall_s"] = round(time.time() - started, 1)
    summary["run_id"] = run_id
    runs.set_summary(db, run_id, summary)
    return summary


def run_demo_job(ctx: JobContext) -> dict:
    """Job entry point: params ``{"quick": bool}``; creates a project when none is given."""
    recipe = DemoRecipe.quick() if ctx.params.get("quick") else DemoRecipe()
    for key, value in ctx.params.get("overrides", {}).items():
        setattr(recipe, key, type(getattr(recipe, key))(value))
    project_id = ensure_project(ctx.db, ctx.project_id)
    summary = run_demo(ctx.db, project_id, recipe, ctx.reporter, ctx.job_id)
    return {"project_id": project_id, **summary}
