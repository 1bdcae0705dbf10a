"""Model half of the demo: LoRA on the coreset, merge, 8-bit, perplexity."""

from __future__ import annotations

import gc
from pathlib import Path

import sqlite_utils

from engine.compress.merge import merge_adapter
from engine.compress.sizes import model_footprint
from engine.metrics.perplexity import perplexity
from engine.models.bundled import smollm2_folder
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.progress import Progress, Reporter
from engine.store import runs
from engine.train.loop import train as train_on
from engine.train.recipe import TrainRecipe


def _metric_logger(db: sqlite_utils.Database, run_id: int):
    def log(event: Progress) -> None:
        for name, value in event.metrics.items():
            runs.log_metric(db, run_id, name, event.step, value)
    return log


def train(db, project_id: int, run_id: int, base: Path, coreset: list[dict], recipe,
          workdir: Path, reporter: Reporter):
    """LoRA-tune the base model on the coreset; loss per step goes to the run."""

    lora = TrainRecipe(learning_rate=recipe.learning_rate, epochs=recipe.epochs,
                      batch_size=recipe.batch_size, max_length=recipe.max_length,
                      seed=recipe.seed)
    step = reporter.for_stage("train").tee(_metric_logger(db, run_id))
    result = train_on(base, coreset, lora, workdir / "adapter", reporter=step)
    runs.add_artifact(db, project_id, "lora-adapter", result.adapter_dir, run_id)
    return result


def _score(folder: Path, test: list[dict], recipe, reporter: Reporter,
           quantize: str | None = None) -> tuple[float, int]:

    model = load_causal_lm(folder, quantize=quantize)
    tokenizer = load_tokenizer(folder)
    result = perplexity(model, tokenizer, test, max_length=recipe.max_length,
                        reporter=reporter)
    footprint = model_footprint(model)
    del model
    gc.collect()
    return result.ppl, footprint


def tune_and_measure(db: sqlite_utils.Database, project_id: int, run_id: int,
                     workdir: Path, data, recipe, reporter: Reporter) -> dict:
    """Train, merge, quantize and score; returns the figures for the summary."""

    base = smollm2_folder(reporter.for_stage("model"))
    evaluate = reporter.for_stage("evaluate")
    ppl_base, size_base = _score(base, data.test, recipe, evaluate)
    reporter.check_cancel()
    trained = train(db, project_id, run_id, base, data.coreset, recipe, workdir, reporter)
    merged = merge_adapter(base, trained.adapter_dir, workdir / "merged",
                           reporter.for_stage("merge"))
    runs.add_artifact(db, project_id, "merged-model", merged, run_id)
    ppl_tuned, size_tuned = _score(merged, data.test, recipe, evaluate)
    ppl_8bit, size_8bit = _score(merged, data.test, recipe, evaluate, quantize="8bit")
    mb = 1024 * 1024
    return {"loss_start": round(trained.first_loss, 4), "loss_end": round(trained.last_loss, 4),
            "train_steps": trained.steps, "train_seconds": round(trained.seconds, 1),
            "ppl_base": round(ppl_base, 3), "ppl_tuned": round(ppl_tuned, 3),
            "ppl_tuned_8bit": round(ppl_8bit, 3), "size_base_mb": round(size_base / mb, 1),
            "size_tuned_mb": round(size_tuned / mb, 1),
            "size_tuned_8bit_mb": round(size_8bit / mb, 1)}
