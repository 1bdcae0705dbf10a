"""The ``train`` job: a run in the store, trained in the job's child process.

Params: ``{"base": folder | "smollm2" | "minilm", "dataset": name or id, "recipe": {...},
"name": str, "launch": {...}}`` to start a run, or ``{"run_id": N}`` to resume one (its stored
recipe, base, dataset and launch plan are used, and training continues from its newest
complete checkpoint). ``launch`` is a :class:`engine.train.launch.LaunchPlan`: with more than
one process the run trains on several GPUs (or machines) under accelerate/torchrun. The run row
carries the recipe, its metrics (loss, lr, tokens/s, eval loss per step) and, once done, a
summary and the output folder as an artifact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils

from engine import paths
from engine.jobs.registry import JobContext
from engine.models import bundled
from engine.progress import Progress
from engine.store import datasets, runs
from engine.train import preflight
from engine.train.launch import LaunchPlan, check_plan, run_launched
from engine.train.loop import TrainResult, train
from engine.train.recipe import TrainRecipe

BUNDLED_BASES = bundled.BUNDLED_NAMES


def resolve_base(base: str) -> Path:
    """A base model folder from a name of a bundled model or a local path.

    Raises:
        ValueError: when the path does not exist.
    """
    return bundled.model_folder(base)


def find_dataset(db: sqlite_utils.Database, project_id: int, dataset: str | int | None) -> dict:
    """The dataset row named (newest version) or numbered; by default the newest training set.

    Raises:
        ValueError: when the project has no such dataset.
    """
    rows = datasets.list_for_project(db, project_id)
    if dataset not in (None, ""):
        key = str(dataset)
        rows = [r for r in rows if str(r["id"]) == key or r["name"] == key]
        if rows and rows[-1]["role"] == datasets.TEST:
            raise ValueError(f"dataset {rows[-1]['name']!r} is held out for testing; "
                             "a model must not learn from it")
    else:
        default = datasets.default_training(db, project_id)
        rows = [default] if default else []
    if not rows:
        raise ValueError(f"project {project_id} has no dataset "
                         f"{dataset!r}" if dataset else f"project {project_id} has no dataset")
    return rows[-1]


def dataset_records(db: sqlite_utils.Database, dataset_id: int) -> list[dict]:
    """The records of a dataset without the store's ``_line`` key."""
    return [{k: v for k, v in record.items() if k != "_line"}
            for record in datasets.records(db, dataset_id)]


def run_folder(project_id: int, run_id: int) -> Path:
    """Where a run's output and checkpoints live."""
    return paths.project_dir(project_id) / "runs" / f"run-{run_id}"


def _metric_logger(db: sqlite_utils.Database, run_id: int):
    def log(event: Progress) -> None:
        for name, value in event.metrics.items():
            runs.log_metric(db, run_id, name, event.step, value)
    return log


def _start_or_resume(ctx: JobContext) -> tuple[int, dict]:
    params = ctx.params
    if params.get("run_id"):
        run_id = int(params["run_id"])
        row = ctx.db["runs"].get(run_id)
        return run_id, json.loads(row["recipe"])
    recipe = TrainRecipe.from_dict(params.get("recipe", {}))
    plan = LaunchPlan.from_dict(params.get("launch"))
    check_plan(plan, recipe.method)
    dataset = find_dataset(ctx.db, ctx.project_id, params.get("dataset"))
    stored = {"base": params["base"], "dataset_id": dataset["id"], "train": recipe.to_dict()}
    if plan.distributed:
        stored["launch"] = plan.to_dict()
    name = params.get("name") or f"{recipe.method} on {dataset['name']}"
    return runs.create(ctx.db, ctx.project_id, "train", name, stored, ctx.job_id), stored


def _train(base: Path, records: list[dict], recipe: TrainRecipe, folder: Path,
           reporter: Any, launch: dict | None) -> Any:
    """Train in this process, or on the processes of the stored launch plan."""

    if not launch:
        return train(base, records, recipe, folder / "output", reporter,
                     checkpoint_dir=folder / "checkpoints")
    values = run_launched(LaunchPlan.from_dict(launch), base, records, recipe,
                          folder / "output", folder / "checkpoints", reporter)
    values["adapter_dir"] = Path(values["adapter_dir"])
    return TrainResult(**values)


def run_train_job(ctx: JobContext) -> dict[str, Any]:
    """Job entry point (kind ``train``): start or resume a training run."""

    run_id, stored = _start_or_resume(ctx)
    project_id = ctx.db["runs"].get(run_id)["project_id"]
    recipe = TrainRecipe.from_dict(stored["train"])
    base = resolve_base(stored["base"])
    report = preflight.check(base, recipe)
    for warning in report.warnings:
        ctx.reporter.report(0, 0, warning, stage="train")
    records = dataset_records(ctx.db, stored["dataset_id"])
    folder = run_folder(project_id, run_id)
    ctx.db["runs"].update(run_id, {"job_id": ctx.job_id})
    reporter = ctx.reporter.for_stage("train").tee(_metric_logger(ctx.db, run_id))
    result = _train(base, records, recipe, folder, reporter, stored.get("launch"))
    summary = {"loss_start": result.first_loss, "loss_end": result.last_loss,
               "steps": result.steps, "seconds": round(result.seconds, 1),
               "tokens_per_s": round(result.tokens / max(result.seconds, 1e-9), 1),
               "eval_loss": min((v for _, v in result.eval_losses), default=None),
               "best_step": result.best_step, "stopped_early": result.stopped_early,
               "resumed_from": result.resumed_from, "output": str(result.adapter_dir),
               "memory_estimate_mb": round(report.estimate.total / 2**20)}
    if stored.get("launch"):
        summary["processes"] = LaunchPlan.from_dict(stored["launch"]).world
    runs.set_summary(ctx.db, run_id, summary)
    kind = "lora-adapter" if recipe.uses_adapter else "model"
    runs.add_artifact(ctx.db, project_id, kind, result.adapter_dir, run_id)
    return {"run_id": run_id, **summary}
