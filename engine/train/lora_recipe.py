"""The LoRA fine-tuning recipe: every knob of a run, with help text and validation."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from typing import Any

log = logging.getLogger(__name__)

OPTIMIZERS = ("adamw", "sgd", "rmsprop")
SCHEDULERS = ("cosine", "linear", "constant")

# Attention projections that LoRA adapts, per ``config.model_type``.
TARGET_MODULES_BY_ARCHITECTURE: dict[str, list[str]] = {
    **{name: ["q_proj", "k_proj", "v_proj", "o_proj"]
       for name in ("llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2",
                    "gemma3_text", "phi", "olmo", "olmo2", "granite", "smollm3")},
    "phi3": ["qkv_proj", "o_proj"],
    "gpt2": ["c_attn"],
    "gpt_neox": ["query_key_value"],
    **{name: ["query", "key", "value"]
       for name in ("bert", "roberta", "xlm-roberta", "electra")},
    "deberta-v2": ["query_proj", "key_proj", "value_proj"],
    "modernbert": ["Wqkv", "Wo"],
    "distilbert": ["q_lin", "k_lin", "v_lin"],
    "mpnet": ["q", "k", "v"],
}


def lora_targets(target_modules: str, model_type: str) -> list[str]:
    """The module names LoRA adapts: the comma-separated names given, or for "auto"
    the defaults of the architecture (``config.model_type``).

    Raises:
        ValueError: when ``target_modules`` is 'auto' and the architecture is unknown.
    """
    if target_modules.strip() != "auto":
        return [name.strip() for name in target_modules.split(",") if name.strip()]
    if model_type not in TARGET_MODULES_BY_ARCHITECTURE:
        raise ValueError(f"no default LoRA target modules for architecture {model_type!r}; "
                         "set target_modules to comma-separated module names")
    return list(TARGET_MODULES_BY_ARCHITECTURE[model_type])


@dataclass
class LoraRecipe:
    """How to fine-tune a causal language model with LoRA adapters.

    Raises ``ValueError`` on construction when a value is out of range, naming the field.
    """

    rank: int = field(default=8, metadata={"help": "LoRA rank r: size of the low-rank update."})
    alpha: float = field(default=16, metadata={"help": "LoRA scaling alpha (update is alpha/r)."})
    dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA input, 0 to <1."})
    target_modules: str = field(default="auto", metadata={
        "help": "Comma-separated module names to adapt, or 'auto' to pick the attention "
                "projections of the model's architecture."})
    learning_rate: float = field(default=2e-4, metadata={"help": "Peak learning rate."})
    epochs: int = field(default=1, metadata={"help": "Passes over the data (if max_steps is 0)."})
    max_steps: int = field(default=0, metadata={
        "help": "Optimizer steps to run; 0 lets epochs decide."})
    batch_size: int = field(default=4, metadata={"help": "Examples per forward pass."})
    grad_accum: int = field(default=1, metadata={
        "help": "Forward passes summed into one optimizer step."})
    max_length: int = field(default=256, metadata={"help": "Tokens kept per example."})
    warmup_ratio: float = field(default=0.05, metadata={
        "help": "Share of steps over which the learning rate ramps up, 0 to 1."})
    weight_decay: float = field(default=0.0, metadata={"help": "Weight decay of the optimizer."})
    seed: int = field(default=0, metadata={"help": "Same seed and data give the same adapter."})
    optimizer: str = field(default="adamw", metadata={"help": "One of adamw, sgd, rmsprop."})
    scheduler: str = field(default="cosine", metadata={
        "help": "Learning-rate schedule: cosine, linear or constant."})
    logging_every: int = field(default=1, metadata={"help": "Report the loss every N steps."})

    def __post_init__(self) -> None:
        self._check_positive("rank", "epochs", "batch_size", "grad_accum", "logging_every")
        self._check_range("alpha", 0, None, low_open=True)
        self._check_range("learning_rate", 0, None, low_open=True)
        self._check_range("dropout", 0, 1, high_open=True)
        self._check_range("warmup_ratio", 0, 1)
        self._check_range("weight_decay", 0, None)
        if not isinstance(self.max_steps, int) or self.max_steps < 0:
            raise ValueError(f"max_steps must be an integer >= 0 (0 = epochs decide), "
                             f"got {self.max_steps!r}")
        if not isinstance(self.max_length, int) or self.max_length < 16:
            raise ValueError(f"max_length must be an integer >= 16, got {self.max_length!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}, "
                             f"got {self.scheduler!r}")
        if not isinstance(self.target_modules, str) or not self.target_modules.strip(" ,"):
            raise ValueError("target_modules must be 'auto' or comma-separated module names, "
                             f"got {self.target_modules!r}")

    def _check_positive(self, *names: str) -> None:
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    def _check_range(self, name: str, low: float, high: float | None,
                     low_open: bool = False, high_open: bool = False) -> None:
        value = getattr(self, name)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and (value > low if low_open else value >= low)
        if high is not None:
            ok = ok and (value < high if high_open else value <= high)
        if not ok:
            bounds = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'}" \
                     f"{')' if high_open or high is None else ']'}"
            raise ValueError(f"{name} must be a number in {bounds}, got {value!r}")

    def target_modules_for(self, model_type: str) -> list[str]:
        """The module names to adapt for a model of ``config.model_type``.

        Raises:
            ValueError: when ``target_modules`` is 'auto' and the architecture is unknown.
        """
        return lora_targets(self.target_modules, model_type)

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain values (for TOML/JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "LoraRecipe":
        """Build a recipe, dropping unknown keys with a logged warning."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            log.warning("LoRA recipe: ignoring unknown keys %s", ", ".join(unknown))
        return cls(**{key: value for key, value in values.items() if key in known})
