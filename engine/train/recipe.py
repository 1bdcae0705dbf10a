"""The training recipe: method, task and every knob of a run, with help text and validation.

One dataclass for LoRA, QLoRA and full fine-tuning of causal and encoder models. The window
builds its form from the fields' ``metadata`` ("help", and "choices" where a field takes one
of a few names); the command line reads the same recipe from TOML. Construction raises
``ValueError`` naming the field when a value is out of range. Checks that need the model
(sequence length against the model's limit, QLoRA support) live in
:mod:`engine.train.preflight`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import Recipe, option
from engine.train.lora_targets import lora_targets

METHODS = ("lora", "qlora", "full")
TASKS = ("instruction", "text", "classification")
OPTIMIZERS = ("adamw", "sgd", "rmsprop", "adafactor", "adamw8bit")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# Learning rates from the literature: LoRA ~1e-4..2e-4, full fine-tuning ~1e-5..5e-5.
DEFAULT_LEARNING_RATE = {"lora": 2e-4, "qlora": 2e-4, "full": 2e-5}


def _f(default: Any, help_text: str, choices: tuple | None = None, **bounds: Any) -> Any:
    return option(default, help_text, choices=choices, **bounds)


@dataclass
class TrainRecipe(Recipe):
    """How to fine-tune a model: which method, which task, which settings.

    Raises ``RecipeError`` on construction when a value is out of range, naming the field.
    """

    SECTION = "train"

    method: str = _f("lora", "lora: small adapters (fast, little memory); qlora: adapters on a "
                     "4-bit model (least memory); full: every weight (most memory).", METHODS)
    task: str = _f("instruction", "instruction: prompt/response chats, loss on answers; text: "
                   "continued pre-training on plain text; classification: text → label.", TASKS)
    learning_rate: float = _f(DEFAULT_LEARNING_RATE["lora"], "Peak learning rate. LoRA "
                              "1e-4–2e-4; full 1e-5–5e-5.", min=0, min_open=True)
    epochs: int = _f(1, "Passes over the data (1–3 typical); used when max_steps is 0.", min=1)
    max_steps: int = _f(0, "Optimizer steps to run; 0 lets epochs decide.", min=0)
    batch_size: int = _f(4, "Examples per forward pass; lower it when memory runs out.", min=1)
    grad_accum: int = _f(1, "Forward passes summed into one optimizer step (a larger batch "
                         "without more memory).", min=1)
    max_length: int = _f(256, "Tokens kept per example; longer needs more memory.", min=16)
    warmup_ratio: float = _f(0.05, "Share of steps over which the learning rate ramps up.", min=0, max=1)
    weight_decay: float = _f(0.0, "Pulls weights towards zero; 0–0.1 typical.", min=0)
    optimizer: str = _f("adamw", "adamw (default), sgd, rmsprop, adafactor (less memory), "
                        "adamw8bit (8-bit states through bitsandbytes).", OPTIMIZERS)
    scheduler: str = _f("cosine", "How the learning rate changes after warm-up.", SCHEDULERS)
    seed: int = _f(0, "Same seed and data give the same result.", min=0)
    rank: int = _f(8, "LoRA rank r: size of the low-rank update (4–64).", min=1)
    alpha: float = _f(16, "LoRA scaling alpha; the update is scaled by alpha/r.", min=0, min_open=True)
    dropout: float = _f(0.05, "Dropout on the LoRA input, 0 to <1.", min=0, max=1, max_open=True)
    target_modules: str = _f("auto", "Modules LoRA adapts: 'auto' picks the attention "
                             "projections of the architecture, or comma-separated names.")
    use_dora: bool = _f(False, "DoRA: split each update into magnitude and direction "
                        "(slower, sometimes better than LoRA).")
    gradient_checkpointing: bool = _f(False, "Recompute activations in the backward pass: "
                                      "much less memory, about 30 % slower.")
    precision: str = _f("auto", "auto: bf16 on a GPU that supports it, else fp32. "
                        "bf16/fp16 need a GPU.", PRECISIONS)
    packing: bool = _f(False, "Text task: join texts into full-length blocks (no padding).")
    eval_fraction: float = _f(0.0, "Share of records held out to measure eval loss; 0 = none.", min=0, max=0.9)
    eval_every: int = _f(0, "Measure eval loss every N steps; 0 = at each checkpoint.", min=0)
    early_stopping_patience: int = _f(0, "Stop after N evaluations without a better eval loss; "
                                      "0 = never stop early. The best weights are kept.", min=0)
    checkpoint_every: int = _f(50, "Save a resumable checkpoint every N steps; 0 = not by steps.", min=0)
    checkpoint_minutes: float = _f(5.0, "Also save one every N minutes of training; 0 = not by "
                                   "time. On CPU one more after the first 10 % of steps "
                                   "(unless both are 0: never).", min=0)
    keep_checkpoints: int = _f(2, "How many recent checkpoints to keep on disk.", min=1)
    max_grad_norm: float = _f(1.0, "Clip the gradient norm to this value; 0 = no clipping.", min=0)
    logging_every: int = _f(1, "Report the loss every N steps.", min=1)
    init_adapter: str = _f("", "Continue training this adapter folder (incremental training "
                           "on new data); empty = start fresh.")
    reweight_by: str = _f("", "Fairness: record field naming each example's group (e.g. sex, "
                          "site); rare groups and skewed labels are re-weighted. Empty = off.")
    chat_template_fallback: bool = _f(False, "Instruction task, model without a chat template: "
                                      "use Enclave's plain '### User: / ### Assistant:' format "
                                      "(saved with the result) instead of refusing. A model's "
                                      "own template is always used when it has one.")
    fused_kernels: bool = _f(True, "On a CUDA GPU, use Liger Kernel's fused RMSNorm, RoPE, "
                             "SwiGLU and cross-entropy where the family supports them (when "
                             "installed). No effect on CPU.")

    def check(self) -> None:
        if not self.target_modules.strip(" ,"):
            raise ValueError("target_modules must be 'auto' or comma-separated module names, "
                             f"got {self.target_modules!r}")
        if self.early_stopping_patience and not self.eval_fraction:
            raise ValueError("early_stopping_patience needs eval_fraction > 0 (a validation "
                             "split to measure eval loss on)")
        if self.packing and self.task != "text":
            raise ValueError("packing applies to the text task only")
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



def load_toml(path: str | Path) -> tuple[TrainRecipe, dict[str, Any]]:
    """Read a recipe TOML file: the ``[train]`` table (or the top level) is the recipe.

    Returns:
        The recipe and the other top-level keys (e.g. ``base``, ``dataset``).

    Raises:
        RecipeError: naming the file (and line for syntax errors) and the bad field.
    """
    return TrainRecipe.from_toml(path)


def to_toml(recipe: TrainRecipe, extra: dict[str, Any] | None = None) -> str:
    """The recipe as TOML text (``extra`` keys first, then a ``[train]`` table)."""
    return recipe.to_toml(extra)
