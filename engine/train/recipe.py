"""The training recipe: method, task and every knob of a run, with help text and validation.

One dataclass for LoRA, QLoRA and full fine-tuning of causal and encoder models. The window
builds its form from the fields' ``metadata`` ("help", and "choices" where a field takes one
of a few names); the command line reads the same recipe from TOML. Construction raises
``ValueError`` naming the field when a value is out of range. Checks that need the model
(sequence length against the model's limit, QLoRA support) live in
:mod:`engine.train.preflight`.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.train.lora_recipe import lora_targets

log = logging.getLogger(__name__)

METHODS = ("lora", "qlora", "full")
TASKS = ("instruction", "text", "classification")
OPTIMIZERS = ("adamw", "sgd", "rmsprop", "adafactor", "adamw8bit")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# Learning rates from the literature: LoRA ~1e-4..2e-4, full fine-tuning ~1e-5..5e-5.
DEFAULT_LEARNING_RATE = {"lora": 2e-4, "qlora": 2e-4, "full": 2e-5}


def _f(default: Any, help_text: str, choices: tuple | None = None) -> Any:
    metadata = {"help": help_text}
    if choices:
        metadata["choices"] = choices
    return field(default=default, metadata=metadata)


@dataclass
class TrainRecipe:
    """How to fine-tune a model: which method, which task, which settings.

    Raises ``ValueError`` on construction when a value is out of range, naming the field.
    """

    method: str = _f("lora", "lora: small adapters (fast, little memory); qlora: adapters on a "
                     "4-bit model (least memory); full: every weight (most memory).", METHODS)
    task: str = _f("instruction", "instruction: prompt/response chats, loss on answers; text: "
                   "continued pre-training on plain text; classification: text → label.", TASKS)
    learning_rate: float = _f(2e-4, "Peak learning rate. LoRA 1e-4–2e-4; full 1e-5–5e-5.")
    epochs: int = _f(1, "Passes over the data (1–3 typical); used when max_steps is 0.")
    max_steps: int = _f(0, "Optimizer steps to run; 0 lets epochs decide.")
    batch_size: int = _f(4, "Examples per forward pass; lower it when memory runs out.")
    grad_accum: int = _f(1, "Forward passes summed into one optimizer step (a larger batch "
                         "without more memory).")
    max_length: int = _f(256, "Tokens kept per example; longer needs more memory.")
    warmup_ratio: float = _f(0.05, "Share of steps over which the learning rate ramps up.")
    weight_decay: float = _f(0.0, "Pulls weights towards zero; 0–0.1 typical.")
    optimizer: str = _f("adamw", "adamw (default), sgd, rmsprop, adafactor (less memory), "
                        "adamw8bit (8-bit states through bitsandbytes).", OPTIMIZERS)
    scheduler: str = _f("cosine", "How the learning rate changes after warm-up.", SCHEDULERS)
    seed: int = _f(0, "Same seed and data give the same result.")
    rank: int = _f(8, "LoRA rank r: size of the low-rank update (4–64).")
    alpha: float = _f(16, "LoRA scaling alpha; the update is scaled by alpha/r.")
    dropout: float = _f(0.05, "Dropout on the LoRA input, 0 to <1.")
    target_modules: str = _f("auto", "Modules LoRA adapts: 'auto' picks the attention "
                             "projections of the architecture, or comma-separated names.")
    use_dora: bool = _f(False, "DoRA: split each update into magnitude and direction "
                        "(slower, sometimes better than LoRA).")
    gradient_checkpointing: bool = _f(False, "Recompute activations in the backward pass: "
                                      "much less memory, about 30 % slower.")
    precision: str = _f("auto", "auto: bf16 on a GPU that supports it, else fp32. "
                        "bf16/fp16 need a GPU.", PRECISIONS)
    packing: bool = _f(False, "Text task: join texts into full-length blocks (no padding).")
    eval_fraction: float = _f(0.0, "Share of records held out to measure eval loss; 0 = none.")
    eval_every: int = _f(0, "Measure eval loss every N steps; 0 = at each checkpoint.")
    early_stopping_patience: int = _f(0, "Stop after N evaluations without a better eval loss; "
                                      "0 = never stop early. The best weights are kept.")
    checkpoint_every: int = _f(50, "Save a resumable checkpoint every N steps; 0 = not by steps.")
    checkpoint_minutes: float = _f(5.0, "Also save one every N minutes of training; 0 = not by "
                                   "time. On CPU one more after the first 10 % of steps "
                                   "(unless both are 0: never).")
    keep_checkpoints: int = _f(2, "How many recent checkpoints to keep on disk.")
    max_grad_norm: float = _f(1.0, "Clip the gradient norm to this value; 0 = no clipping.")
    logging_every: int = _f(1, "Report the loss every N steps.")
    init_adapter: str = _f("", "Continue training this adapter folder (incremental training "
                           "on new data); empty = start fresh.")
    reweight_by: str = _f("", "Fairness: record field naming each example's group (e.g. sex, "
                          "site); rare groups and skewed labels are re-weighted. Empty = off.")

    def __post_init__(self) -> None:
        for name, choices in (("method", METHODS), ("task", TASKS), ("optimizer", OPTIMIZERS),
                              ("scheduler", SCHEDULERS), ("precision", PRECISIONS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}, "
                                 f"got {getattr(self, name)!r}")
        _positive_ints(self, "epochs", "batch_size", "grad_accum", "rank", "logging_every",
                       "keep_checkpoints")
        _non_negative_ints(self, "max_steps", "eval_every", "early_stopping_patience",
                           "checkpoint_every", "seed")
        _number_in(self, "learning_rate", 0, None, low_open=True)
        _number_in(self, "alpha", 0, None, low_open=True)
        _number_in(self, "dropout", 0, 1, high_open=True)
        _number_in(self, "warmup_ratio", 0, 1)
        _number_in(self, "weight_decay", 0, None)
        _number_in(self, "eval_fraction", 0, 0.9)
        _number_in(self, "max_grad_norm", 0, None)
        _number_in(self, "checkpoint_minutes", 0, None)
        if not isinstance(self.max_length, int) or isinstance(self.max_length, bool) \
                or self.max_length < 16:
            raise ValueError(f"max_length must be an integer >= 16, got {self.max_length!r}")
        for name in ("use_dora", "gradient_checkpointing", "packing"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not isinstance(self.target_modules, str) or not self.target_modules.strip(" ,"):
            raise ValueError("target_modules must be 'auto' or comma-separated module names, "
                             f"got {self.target_modules!r}")
        if self.early_stopping_patience and not self.eval_fraction:
            raise ValueError("early_stopping_patience needs eval_fraction > 0 (a validation "
                             "split to measure eval loss on)")
        if self.packing and self.task != "text":
            raise ValueError("packing applies to the text task only")
        if not isinstance(self.reweight_by, str):
            raise ValueError(f"reweight_by must be a record field name (text), "
                             f"got {self.reweight_by!r}")
        self.reweight_by = self.reweight_by.strip()
        if self.reweight_by and self.packing:
            raise ValueError("reweight_by weighs single records; it cannot be combined with "
                             "packing, which joins records into blocks")

    @property
    def uses_adapter(self) -> bool:
        """Whether the run trains LoRA adapters (lora, qlora) rather than every weight."""
        return self.method in ("lora", "qlora")

    def target_modules_for(self, model_type: str) -> list[str]:
        """The module names LoRA adapts for a model of ``config.model_type``.

        Raises:
            ValueError: when ``target_modules`` is 'auto' and the architecture is unknown.
        """
        return lora_targets(self.target_modules, model_type)

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain values (for TOML/JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "recipe") -> "TrainRecipe":
        """Build a recipe, dropping unknown keys with a logged warning.

        Raises:
            ValueError: naming ``where`` and the field when a value is bad.
        """
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            log.warning("%s: ignoring unknown keys %s", where, ", ".join(unknown))
        try:
            return cls(**{key: value for key, value in values.items() if key in known})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from exc


def read_toml_table(path: str | Path, table: str, recipe_class: type) -> tuple[dict, dict]:
    """The ``[table]`` of a recipe file (or the recipe's fields at its top level) and the rest.

    Raises:
        ValueError: naming the file (and line for syntax errors).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from exc
    values = data.pop(table, None)
    if values is None:
        names = {item.name for item in fields(recipe_class)}
        values = {key: data.pop(key) for key in list(data) if key in names}
    return values, data


def load_toml(path: str | Path) -> tuple[TrainRecipe, dict[str, Any]]:
    """Read a recipe TOML file: the ``[train]`` table (or the top level) is the recipe.

    Returns:
        The recipe and the other top-level keys (e.g. ``base``, ``dataset``).

    Raises:
        ValueError: naming the file (and line for syntax errors) and the bad field.
    """
    values, rest = read_toml_table(path, "train", TrainRecipe)
    return TrainRecipe.from_dict(values, where=f"{path} [train]"), rest


def to_toml(recipe: TrainRecipe, extra: dict[str, Any] | None = None) -> str:
    """The recipe as TOML text (``extra`` keys first, then a ``[train]`` table)."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in (extra or {}).items()]
    lines += ["", "[train]"] if lines else ["[train]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in recipe.to_dict().items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _positive_ints(recipe: Any, *names: str) -> None:
    for name in names:
        value = getattr(recipe, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def _non_negative_ints(recipe: Any, *names: str) -> None:
    for name in names:
        value = getattr(recipe, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")


def _number_in(recipe: Any, name: str, low: float, high: float | None,
               low_open: bool = False, high_open: bool = False) -> None:
    value = getattr(recipe, name)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (value > low if low_open else value >= low)
    if high is not None:
        ok = ok and (value < high if high_open else value <= high)
    if not ok:
        bounds = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'}" \
                 f"{')' if high_open or high is None else ']'}"
        raise ValueError(f"{name} must be a number in {bounds}, got {value!r}")
