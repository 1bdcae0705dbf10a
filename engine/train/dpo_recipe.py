"""The preference-tuning (DPO) recipe: every knob of a DPO run, with help text and validation.

DPO (Direct Preference Optimization, arXiv 2305.18290) trains LoRA adapters on pairs of a
prompt, a preferred ("chosen") and a worse ("rejected") answer. Like
:class:`engine.train.recipe.TrainRecipe`, the window builds its form from the fields'
``metadata`` and the command line reads the same recipe from TOML (a ``[dpo]`` table).
Construction raises ``ValueError`` naming the field when a value is out of range.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from engine.train.recipe import (PRECISIONS, SCHEDULERS, TrainRecipe, _non_negative_ints,
                                 _number_in, _positive_ints, read_toml_table)

log = logging.getLogger(__name__)

LOSS_TYPES = ("sigmoid", "ipo", "hinge")


def _f(default: Any, help_text: str, choices: tuple | None = None) -> Any:
    metadata = {"help": help_text}
    if choices:
        metadata["choices"] = choices
    return field(default=default, metadata=metadata)


@dataclass
class DpoRecipe:
    """How to tune a model on preference pairs with DPO (LoRA adapters, trl's DPOTrainer).

    Raises ``ValueError`` on construction when a value is out of range, naming the field.
    """

    method: ClassVar[str] = "dpo"

    beta: float = _f(0.1, "How far the model may move away from its reference (the model "
                     "before this run): higher stays closer. 0.05–0.5 typical.")
    learning_rate: float = _f(5e-5, "Peak learning rate; lower than for supervised tuning "
                              "(LoRA 1e-5–1e-4).")
    epochs: int = _f(1, "Passes over the pairs (1–3 typical); used when max_steps is 0.")
    max_steps: int = _f(0, "Optimizer steps to run; 0 lets epochs decide.")
    batch_size: int = _f(2, "Pairs per forward pass (each pair is two sequences).")
    grad_accum: int = _f(1, "Forward passes summed into one optimizer step.")
    max_length: int = _f(256, "Tokens kept per prompt + answer; longer needs more memory.")
    warmup_ratio: float = _f(0.1, "Share of steps over which the learning rate ramps up.")
    scheduler: str = _f("linear", "How the learning rate changes after warm-up.", SCHEDULERS)
    loss_type: str = _f("sigmoid", "sigmoid: the DPO loss; ipo: IPO, less prone to over-fit a "
                        "few pairs; hinge: SLiC hinge loss.", LOSS_TYPES)
    rank: int = _f(8, "LoRA rank r of a new adapter (a run's adapter keeps its own).")
    alpha: float = _f(16, "LoRA scaling alpha of a new adapter.")
    target_modules: str = _f("auto", "Modules a new LoRA adapter adapts: 'auto' or "
                             "comma-separated names.")
    include_corrections: bool = _f(True, "Also learn from corrected answers: the expert's "
                                   "correction is preferred over the answer it corrects.")
    min_pairs: int = _f(4, "Refuse to start with fewer preference pairs than this.")
    gradient_checkpointing: bool = _f(False, "Recompute activations in the backward pass: "
                                      "much less memory, about 30 % slower.")
    precision: str = _f("auto", "auto: bf16 on a GPU that supports it, else fp32. "
                        "bf16/fp16 need a GPU.", PRECISIONS)
    max_grad_norm: float = _f(1.0, "Clip the gradient norm to this value; 0 = no clipping.")
    seed: int = _f(0, "Same seed and pairs give the same result.")

    def __post_init__(self) -> None:
        for name, choices in (("scheduler", SCHEDULERS), ("loss_type", LOSS_TYPES),
                              ("precision", PRECISIONS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}, "
                                 f"got {getattr(self, name)!r}")
        _positive_ints(self, "epochs", "batch_size", "grad_accum", "rank", "min_pairs")
        _non_negative_ints(self, "max_steps", "seed")
        _number_in(self, "beta", 0, None, low_open=True)
        _number_in(self, "learning_rate", 0, None, low_open=True)
        _number_in(self, "alpha", 0, None, low_open=True)
        _number_in(self, "warmup_ratio", 0, 1)
        _number_in(self, "max_grad_norm", 0, None)
        if not isinstance(self.max_length, int) or isinstance(self.max_length, bool) \
                or self.max_length < 16:
            raise ValueError(f"max_length must be an integer >= 16, got {self.max_length!r}")
        for name in ("include_corrections", "gradient_checkpointing"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not isinstance(self.target_modules, str) or not self.target_modules.strip(" ,"):
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

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain values (for TOML/JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "recipe") -> "DpoRecipe":
        """Build a recipe, dropping unknown keys (and ``method``) with a logged warning.

        Raises:
            ValueError: naming ``where`` and the field when a value is bad.
        """
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known - {"method"})
        if unknown:
            log.warning("%s: ignoring unknown keys %s", where, ", ".join(unknown))
        try:
            return cls(**{key: value for key, value in values.items() if key in known})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from exc


def load_toml(path: str | Path) -> tuple[DpoRecipe, dict[str, Any]]:
    """Read a DPO recipe file: the ``[dpo]`` table (or the top level) is the recipe.

    Returns:
        The recipe and the other top-level keys (``base``, ``from_run``, ``pairs``).

    Raises:
        ValueError: naming the file (and line for syntax errors) and the bad field.
    """
    values, rest = read_toml_table(path, "dpo", DpoRecipe)
    return DpoRecipe.from_dict(values, where=f"{path} [dpo]"), rest
