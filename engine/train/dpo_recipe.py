"""The preference-tuning (DPO) recipe: every knob of a DPO run, with help text and validation.

DPO (Direct Preference Optimization, arXiv 2305.18290) trains LoRA adapters on pairs of a
prompt, a preferred ("chosen") and a worse ("rejected") answer. Like
:class:`engine.train.recipe.TrainRecipe`, the window builds its form from the fields'
``metadata`` and the command line reads the same recipe from TOML (a ``[dpo]`` table).
Construction raises ``ValueError`` naming the field when a value is out of range.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine.config import Recipe, option
from engine.train.recipe import PRECISIONS, SCHEDULERS, TrainRecipe

LOSS_TYPES = ("sigmoid", "ipo", "hinge")


def _f(default: Any, help_text: str, choices: tuple | None = None, **bounds: Any) -> Any:
    return option(default, help_text, choices=choices, **bounds)


@dataclass
class DpoRecipe(Recipe):
    """How to tune a model on preference pairs with DPO (LoRA adapters, trl's DPOTrainer).

    Raises ``ValueError`` on construction when a value is out of range, naming the field.
    """

    SECTION = "dpo"
    LEGACY = frozenset({"method"})
    method: ClassVar[str] = "dpo"

    beta: float = _f(0.1, "How far the model may move away from its reference (the model "
                     "before this run): higher stays closer. 0.05–0.5 typical.", min=0, min_open=True)
    learning_rate: float = _f(5e-5, "Peak learning rate; lower than for supervised tuning "
                              "(LoRA 1e-5–1e-4).", min=0, min_open=True)
    epochs: int = _f(1, "Passes over the pairs (1–3 typical); used when max_steps is 0.", min=1)
    max_steps: int = _f(0, "Optimizer steps to run; 0 lets epochs decide.", min=0)
    batch_size: int = _f(2, "Pairs per forward pass (each pair is two sequences).", min=1)
    grad_accum: int = _f(1, "Forward passes summed into one optimizer step.", min=1)
    max_length: int = _f(256, "Tokens kept per prompt + answer; longer needs more memory.", min=16)
    warmup_ratio: float = _f(0.1, "Share of steps over which the learning rate ramps up.", min=0, max=1)
    scheduler: str = _f("linear", "How the learning rate changes after warm-up.", SCHEDULERS)
    loss_type: str = _f("sigmoid", "sigmoid: the DPO loss; ipo: IPO, less prone to over-fit a "
                        "few pairs; hinge: SLiC hinge loss.", LOSS_TYPES)
    rank: int = _f(8, "LoRA rank r of a new adapter (a run's adapter keeps its own).", min=1)
    alpha: float = _f(16, "LoRA scaling alpha of a new adapter.", min=0, min_open=True)
    target_modules: str = _f("auto", "Modules a new LoRA adapter adapts: 'auto' or "
                             "comma-separated names.")
    include_corrections: bool = _f(True, "Also learn from corrected answers: the expert's "
                                   "correction is preferred over the answer it corrects.")
    min_pairs: int = _f(4, "Refuse to start with fewer preference pairs than this.", min=1)
    gradient_checkpointing: bool = _f(False, "Recompute activations in the backward pass: "
                                      "much less memory, about 30 % slower.")
    precision: str = _f("auto", "auto: bf16 on a GPU that supports it, else fp32. "
                        "bf16/fp16 need a GPU.", PRECISIONS)
    max_grad_norm: float = _f(1.0, "Clip the gradient norm to this value; 0 = no clipping.", min=0)
    seed: int = _f(0, "Same seed and pairs give the same result.", min=0)

    def check(self) -> None:
        if not self.target_modules.strip(" ,"):
            raise ValueError("target_modules must be 'auto' or comma-separated module names, "
                             f"got {self.target_modules!r}")

    def as_train_recipe(self) -> TrainRecipe:
        """A LoRA training recipe with the same memory needs (two sequences per pair), for
        the model checks and the memory estimate of :mod:`engine.train.preflight`."""
        return TrainRecipe(method="lora", task="instruction", learning_rate=self.learning_rate,
                           batch_size=2 * self.batch_size, grad_accum=self.grad_accum,
                           max_length=self.max_length, rank=self.rank, alpha=self.alpha,
                           target_modules=self.target_modules, precision=self.precision,
                           gradient_checkpointing=self.gradient_checkpointing, seed=self.seed)



def load_toml(path: str | Path) -> tuple[DpoRecipe, dict[str, Any]]:
    """Read a DPO recipe file: the ``[dpo]`` table (or the top level) is the recipe.

    Returns:
        The recipe and the other top-level keys (``base``, ``from_run``, ``pairs``).

    Raises:
        ValueError: naming the file (and line for syntax errors) and the bad field.
    """
    return DpoRecipe.from_toml(path)
