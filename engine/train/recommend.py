"""Which method and batch size fit a model on this machine: the Training tab's advice.

From the memory estimate (:mod:`engine.train.memory_estimate`, headers only, no weights
read): full tuning on a CUDA GPU when the model is small (under a billion parameters) and
fits with room to spare (on a CPU it would be slow); else LoRA when it fits; else QLoRA
(4-bit base model) on a CUDA GPU; then the largest batch size (a power of two, up to 64)
that still fits with that method. Several GPUs under
FSDP share the weights of full tuning, so the advice takes the process count and strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.train.memory_estimate import MB, MemoryEstimate, estimate
from engine.train.recipe import TrainRecipe

FULL_TUNING_LIMIT = 1_000_000_000  # parameters; above it adapters learn as well for less
FULL_HEADROOM = 0.5                # full tuning only with half the device to spare
BATCHES = (64, 32, 16, 8, 4, 2, 1)
NAMES = {"full": "full tuning", "lora": "LoRA", "qlora": "QLoRA"}


@dataclass
class Recommendation:
    """A method and batch size that fit, and why; ``method`` is empty when nothing fits."""

    method: str
    batch_size: int
    estimate: MemoryEstimate | None
    reason: str

    def summary(self) -> str:
        """One sentence for the window."""
        if not self.method:
            return self.reason
        return (f"Recommended: {NAMES[self.method]} with batch size {self.batch_size} "
                f"({self.reason}; about "
                f"{self.estimate.total / MB:,.0f} MB).")


def _fits(folder: Path, recipe: TrainRecipe, device: Any, processes: int,
          strategy: str) -> MemoryEstimate:
    return estimate(folder, recipe, device, processes=processes, strategy=strategy)


def largest_batch(folder: Path, recipe: TrainRecipe, device: Any, processes: int = 1,
                  strategy: str = "ddp") -> tuple[int, MemoryEstimate | None]:
    """The largest batch size in :data:`BATCHES` whose estimate fits; (0, None) if none."""
    for batch in BATCHES:
        found = _fits(folder, replace(recipe, batch_size=batch), device, processes, strategy)
        if found.fits and not found.tight:
            return batch, found
    return 0, None


def recommend(model_folder: str | Path, recipe: TrainRecipe, device: Any = None,
              processes: int = 1, strategy: str = "ddp") -> Recommendation:
    """The method and largest batch size that fit ``device`` for the recipe's other settings.

    Raises:
        ModelRefused: when config.json is unreadable.
        ValueError: for an architecture without default LoRA targets.
    """
    if device is None:
        from engine.models.device import detect

        device = detect()
    folder = Path(model_folder)
    full = replace(recipe, method="full", batch_size=1)
    sized = _fits(folder, full, device, processes, strategy)
    small = sized.total_parameters < FULL_TUNING_LIMIT
    roomy = not sized.available or sized.total <= FULL_HEADROOM * sized.available
    if small and roomy and device.kind == "cuda":
        batch, found = largest_batch(folder, full, device, processes, strategy)
        if batch:
            return Recommendation("full", batch, found, "a small model with room to spare")
    batch, found = largest_batch(folder, replace(recipe, method="lora"), device, processes,
                                 strategy)
    if batch:
        return Recommendation("lora", batch, found, "adapters fit this device")
    if device.kind == "cuda":
        batch, found = largest_batch(folder, replace(recipe, method="qlora"), device,
                                     processes, strategy)
        if batch:
            return Recommendation("qlora", batch, found, "only a 4-bit base model fits")
    return Recommendation("", 0, None, "Nothing fits this device at batch size 1: shorten "
                          "max_length, turn on gradient_checkpointing, or use a machine with "
                          "more memory.")
