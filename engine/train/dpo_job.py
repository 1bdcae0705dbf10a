"""The ``train.dpo`` job: preference tuning as a training run in the store.

Params: ``{"recipe": {...DpoRecipe}, "base": "smollm2" | folder, "from_run": N,
"pairs_dataset": id, "name": str}``. ``from_run`` (a finished training run) replaces
``base``: its LoRA adapter is trained further, or a new adapter goes on its full model.
Without ``pairs_dataset`` the pairs of the project's reviews are stored first as a dataset
version (kind ``preferences``), so the run names exactly what it learned from. The run is a
``train`` run whose recipe has ``method = "dpo"``; its per-step metrics (loss, reward
accuracy and margin, chosen and rejected rewards, lr, tokens/s) and its adapter (artifact
``lora-adapter``) land where those of the other training runs do, so evaluation, compression
and export take it like any tuned run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from engine.jobs.registry import JobContext
from engine.models.run_models import run_source
from engine.store import runs
from engine.train import preferences
from engine.train.dpo import train_dpo
from engine.train.dpo_recipe import DpoRecipe
from engine.train.job import _metric_logger, resolve_base, run_folder


@dataclass
class StartPoint:
    """What a DPO run starts from: a base folder and, optionally, a tuned adapter on it."""

    base: str
    base_folder: Path
    init_adapter: Path | None = None
    from_run: int | None = None


def start_point(db: sqlite_utils.Database, project_id: int, base: str | None,
                from_run: int | None) -> StartPoint:
    """The model a DPO run starts from: a finished run's tuned model, or a base model.

    Raises:
        ValueError: when the run is not a finished training run of the project, or the
            base model folder does not exist.
    """

    if from_run is None:
        name = base or "smollm2"
        return StartPoint(name, resolve_base(name))

    rows = list(db["runs"].rows_where("id = ? AND project_id = ? AND kind = 'train'",
                                      [from_run, project_id]))
    if not rows:
        raise ValueError(f"run {from_run} is not a training run of project {project_id} "
                         "(see enclave train-runs PROJECT)")
    try:
        source = run_source(db, from_run)
    except ValueError as exc:
        raise ValueError(f"run {from_run} has no tuned model on disk to start from; "
                         "it may not have finished") from exc
    if source.adapter is not None and source.model is None:
        if source.base is None:
            raise ValueError(f"run {from_run}: the base model of its adapter is not on disk")
        return StartPoint(str(source.base), source.base, source.adapter, from_run)
    return StartPoint(str(source.model), source.model, None, from_run)


def pairs_for_run(db: sqlite_utils.Database, project_id: int, recipe: DpoRecipe,
                  dataset_id: int | None) -> tuple[int, list[dict]]:
    """The pairs dataset id and its checked pairs; the reviews' pairs are stored first
    when no dataset is named.

    Raises:
        NotEnoughPairs: with fewer than ``recipe.min_pairs`` pairs, saying how to add some.
        ValueError: when the dataset does not exist or holds a record that is not a pair.
    """
    if dataset_id is None:
        found = preferences.stored_pairs(db, project_id, recipe.include_corrections)
        preferences.require_pairs(found, recipe.min_pairs,
                                  f"the reviews of project {project_id}")
        dataset_id = preferences.snapshot_stored_pairs(db, project_id,
                                                       recipe.include_corrections)
    pairs = preferences.dataset_pairs(db, int(dataset_id))
    preferences.require_pairs(pairs, recipe.min_pairs, f"dataset {dataset_id}")
    return int(dataset_id), pairs


def run_dpo_job(ctx: JobContext) -> dict[str, Any]:
    """Job entry point (kind ``train.dpo``): DPO on preference pairs, recorded as a run."""

    params = ctx.params
    recipe = DpoRecipe.from_dict(params.get("recipe", {}))
    start = start_point(ctx.db, ctx.project_id, params.get("base"), params.get("from_run"))
    dataset_id, pairs = pairs_for_run(ctx.db, ctx.project_id, recipe,
                                      params.get("pairs_dataset"))
    stored = {"base": start.base, "from_run": start.from_run,
              "init_adapter": str(start.init_adapter or ""), "dataset_id": dataset_id,
              "train": {"method": "dpo", **recipe.to_dict()}}
    origin = f"run {start.from_run}" if start.from_run else Path(start.base).name
    name = params.get("name") or f"dpo on {len(pairs)} pairs from {origin}"
    run_id = runs.create(ctx.db, ctx.project_id, "train", name, stored, ctx.job_id)
    reporter = ctx.reporter.for_stage("dpo").tee(_metric_logger(ctx.db, run_id))
    folder = run_folder(ctx.project_id, run_id)
    result = train_dpo(start.base_folder, pairs, recipe, folder / "output", reporter,
                       init_adapter=start.init_adapter)
    losses = result.series("loss")
    summary = {"steps": result.steps, "pairs": result.pairs, "seconds": round(result.seconds, 1),
               "loss_start": losses[0] if losses else None,
               "loss_end": losses[-1] if losses else None,
               "reward_accuracy": _last(result.series("reward_accuracy")),
               "reward_margin": _last(result.series("reward_margin")),
               "tokens_per_s": round(_last(result.series("tokens_per_s")) or 0.0, 1),
               "from_run": start.from_run, "pairs_dataset": dataset_id,
               "output": str(result.adapter_dir)}
    runs.set_summary(ctx.db, run_id, summary)
    runs.add_artifact(ctx.db, ctx.project_id, "lora-adapter", result.adapter_dir, run_id)
    return {"run_id": run_id, **summary}


def _last(values: list[float]) -> float | None:
    return values[-1] if values else None
