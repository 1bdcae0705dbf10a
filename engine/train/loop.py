"""One training run for any method and task: a plain torch loop with checkpoints and resume.

Run: seed → tokenizer → records split into train/eval → encode → model (LoRA/DoRA, QLoRA or
full) → optimizer + schedule → resume from the newest complete checkpoint if any → one event
per step (loss, lr, tokens/s, ETA, eval loss when measured) and a cancel check per step →
checkpoints every N steps → early stopping on eval loss (best weights kept) → the output
folder (adapter or full model, safetensors) written atomically. A cancelled run keeps its
checkpoints so it can be resumed; a finished run removes them.

Batches come from :func:`engine.train.format.length_sorted_batches`, reshuffled per epoch
with ``seed + epoch``: the data position after N steps is a pure function of the recipe, so
resume skips exactly the batches already trained on.

With ``reweight_by`` (a record field naming each record's group) the training examples carry
loss weights from :mod:`engine.train.weights`; they are a function of the training records,
so a resumed run recomputes the same ones. Eval loss stays unweighted.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.models.loading import load_tokenizer
from engine.progress import Reporter, null_reporter
from engine.train.recipe import TrainRecipe
from engine.train.schedule import RECIPE_FILE, checkpoint_folder
from engine.train.weights import check_group_field


class TrainingOutOfMemory(RuntimeError):
    """The device ran out of memory; the message says what to lower."""


@dataclass
class TrainResult:
    """What a run produced."""

    adapter_dir: Path
    losses: list[tuple[int, float]]
    first_loss: float
    last_loss: float
    steps: int
    seconds: float
    tokens: int
    eval_losses: list[tuple[int, float]] = field(default_factory=list)
    best_step: int = 0
    stopped_early: bool = False
    resumed_from: int = 0


def split_records(records: list[dict], fraction: float, seed: int) -> tuple[list, list]:
    """A seeded train/eval split; ``fraction`` of the records (at least one) go to eval."""
    if not fraction:
        return list(records), []
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    held = max(1, round(len(records) * fraction))
    if held >= len(records):
        raise ValueError(f"eval_fraction={fraction} leaves no training record "
                         f"out of {len(records)}")
    return [records[i] for i in order[held:]], [records[i] for i in order[:held]]


def _tokenizer(model_folder: Path, recipe: TrainRecipe) -> Any:
    from engine.train import torch_setup

    if recipe.task == "instruction":
        return torch_setup.load_instruct_tokenizer(model_folder, recipe.chat_template_fallback)
    return load_tokenizer(model_folder)


def _label_names(recipe: TrainRecipe, records: list[dict]) -> list[str]:
    if recipe.task != "classification":
        return []
    if recipe.init_adapter:
        saved = Path(recipe.init_adapter) / RECIPE_FILE
        if saved.is_file():
            names = json.loads(saved.read_text()).get("label_names")
            if names:
                return list(names)
    return sorted({str(record.get("label")) for record in records})


def oom_message(recipe: TrainRecipe, exc: BaseException) -> str:
    """What ran out, and what to lower, for an out-of-memory error."""
    tips = [f"batch_size (now {recipe.batch_size}; raise grad_accum to keep the "
            "effective batch)", f"max_length (now {recipe.max_length})"]
    if not recipe.gradient_checkpointing:
        tips.append("turn on gradient_checkpointing")
    if recipe.method == "full":
        tips.append("use method lora or qlora")
    elif recipe.method == "lora":
        tips.append("use method qlora (4-bit base model)")
    reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    return (f"Training needed more memory than the device has ({reason}). Try: "
            + "; ".join(tips) + ". Resume continues from the last checkpoint.")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is a device or host out-of-memory error."""
    text = str(exc)
    return type(exc).__name__ == "OutOfMemoryError" or isinstance(exc, MemoryError) or \
        "out of memory" in text or "can't allocate memory" in text


def train(model_folder: Path, records: list[dict], recipe: TrainRecipe, out_dir: Path,
          reporter: Reporter | None = None, *, eval_records: list[dict] | None = None,
          checkpoint_dir: Path | None = None, resume: bool = True,
          ranks: Any = None) -> TrainResult:
    """Train a model on records with the recipe and save the result to ``out_dir``.

    Args:
        model_folder: a local Hugging Face model folder (safetensors + tokenizer).
        records: instruction, text or classification records (see :mod:`engine.train.tasks`).
        recipe: the training recipe.
        out_dir: the adapter (lora, qlora) or model (full) folder to write atomically.
        reporter: receives one event per step; its cancel flag is checked every step.
        eval_records: held-out records; by default ``recipe.eval_fraction`` of ``records``.
        checkpoint_dir: where checkpoints go (default: ``<out_dir>.checkpoints``).
        resume: continue from the newest complete checkpoint there, if one exists.
        ranks: the processes of a launched multi-process run
            (:func:`engine.train.distributed.from_environment`); one process by default.

    Returns:
        The output folder, per-step losses and eval losses, steps, seconds and tokens.

    Raises:
        Cancelled: when the reporter's stop flag is raised (checkpoints are kept).
        TrainingOutOfMemory: when memory runs out, with what to lower.
        ValueError: on malformed records or an unusable model or tokenizer.
    """
    from engine.train import torch_setup
    from engine.train.run_state import RunState

    reporter = reporter or null_reporter()
    torch_setup.seed_everything(recipe.seed)
    model_folder, out_dir = Path(model_folder), Path(out_dir)
    if recipe.reweight_by:
        check_group_field(records, recipe.reweight_by)
    tokenizer = _tokenizer(model_folder, recipe)
    if eval_records is None:
        records, eval_records = split_records(records, recipe.eval_fraction, recipe.seed)
    run = RunState.prepare(model_folder, tokenizer, records, eval_records, recipe,
                           checkpoint_dir or checkpoint_folder(out_dir), _label_names(
                               recipe, list(records) + list(eval_records)), ranks)
    if resume:
        run.resume_from_newest()
    try:
        run.train_steps(reporter)
    except Exception as exc:  # noqa: BLE001 (only memory errors are turned into advice)
        if is_out_of_memory(exc):
            raise TrainingOutOfMemory(oom_message(recipe, exc)) from exc
        raise
    reporter.check_cancel()
    output = run.save_output(out_dir, model_folder)
    if run.ranks.is_main:
        shutil.rmtree(run.checkpoint_dir, ignore_errors=True)
    state = run.state
    return TrainResult(output, [tuple(x) for x in state.losses], state.losses[0][1],
                       state.losses[-1][1], state.step, state.seconds, state.tokens,
                       [tuple(x) for x in state.eval_losses], state.best_step,
                       run.stopped_early, run.resumed_from)
