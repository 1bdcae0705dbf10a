"""LoRA supervised fine-tuning of a causal LM on chat records (the demo's entry point).

A thin front over :func:`engine.train.loop.train`: a :class:`LoraRecipe` becomes a
:class:`TrainRecipe` with method ``lora`` and task ``instruction``. The adapter is written
(safetensors) into a temporary folder and renamed into place once complete; a cancelled or
failed run leaves no adapter folder behind (its checkpoints stay, so it can be resumed).
"""

from __future__ import annotations

from pathlib import Path

from engine.progress import Reporter
from engine.train.lora_recipe import LoraRecipe
from engine.train.loop import TrainResult, train
from engine.train.schedule import RECIPE_FILE, total_steps
from engine.train.recipe import TrainRecipe

__all__ = ["RECIPE_FILE", "TrainResult", "total_steps", "train_lora", "as_train_recipe"]


def as_train_recipe(recipe: LoraRecipe | TrainRecipe, **overrides: object) -> TrainRecipe:
    """The general recipe of a LoRA recipe (method lora, task instruction)."""
    if isinstance(recipe, TrainRecipe):
        return recipe
    values = {**recipe.to_dict(), "method": "lora", "task": "instruction", **overrides}
    return TrainRecipe.from_dict(values)


def train_lora(model_folder: Path, records: list[dict], recipe: LoraRecipe | TrainRecipe,
               out_dir: Path, reporter: Reporter | None = None) -> TrainResult:
    """Fine-tune LoRA adapters on instruction records and save them to ``out_dir``.

    Args:
        model_folder: a local Hugging Face causal-LM folder (safetensors + tokenizer).
        records: ``{"prompt", "response"}`` or ``{"messages": [...]}`` dicts.
        recipe: the LoRA recipe (or a full :class:`TrainRecipe`).
        out_dir: the adapter folder to write (replaced atomically if it exists).
        reporter: receives one event per step; its cancel flag is checked every step.

    Returns:
        The adapter folder, per-step losses, step count, wall seconds and tokens seen.

    Raises:
        Cancelled: when the reporter's stop flag is raised; no adapter is written then.
        ValueError: on malformed records, an unknown architecture or a tokenizer
            without a chat template.
    """
    return train(Path(model_folder), records, as_train_recipe(recipe), Path(out_dir), reporter)

