"""The run's schedule and file names: how many optimizer steps, which micro-batches each
step takes, and where a run keeps its recipe, best weights and checkpoints."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterator

from engine.train.format import length_sorted_batches

RECIPE_FILE = "enclave_recipe.json"
BEST_FOLDER = "best"


def checkpoint_folder(out_dir: Path) -> Path:
    """Where the checkpoints of the run writing ``out_dir`` live."""
    out_dir = Path(out_dir)
    return out_dir.parent / f"{out_dir.name}.checkpoints"


def total_steps(example_count: int, recipe: Any) -> int:
    """Optimizer steps of a run: ``max_steps`` if set, else epochs × steps per epoch."""
    batches = math.ceil(example_count / recipe.batch_size)
    return recipe.max_steps or recipe.epochs * math.ceil(batches / recipe.grad_accum)


def step_groups(examples: list, recipe: Any, steps: int,
                skip: int = 0) -> Iterator[list[list[Any]]]:
    """Micro-batches per optimizer step, reshuffled each epoch; the first ``skip`` left out."""
    produced, epoch = 0, 0
    while True:
        batches = length_sorted_batches(examples, recipe.batch_size, recipe.seed + epoch)
        for begin in range(0, len(batches), recipe.grad_accum):
            if produced == steps:
                return
            produced += 1
            if produced > skip:
                yield batches[begin:begin + recipe.grad_accum]
        epoch += 1
