"""What a compression does: one dataclass, checked before any work starts.

``CompressRecipe`` names a method and its options; every field carries help text
in its metadata (the window builds its form from it). Field values are checked
in ``__post_init__``; :func:`check_request` then checks the recipe against the
model folder and this machine (bitsandbytes present and working, GGUF for a
Llama-family model with a BPE tokenizer), so a bad request fails with a clear
message before a model is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from engine.config import VERSION_KEY, Recipe, RecipeError
from engine.models.device import detect
from engine.models.loading import silence_quantization_warnings

METHODS = ("quantize-8bit", "quantize-4bit", "merge", "prune", "distill", "gguf")
QUANT_TYPES = ("nf4", "fp4")
GGUF_TYPES = ("f32", "f16", "q8_0")
DTYPES = ("float32", "float16", "bfloat16")
GGUF_MODEL_TYPES = frozenset({"llama"})


class CompressRequestError(RecipeError):
    """A compression request that cannot be run; the message says why."""


@dataclass
class CompressRecipe(Recipe):
    """A compression method and its options.

    Raises:
        CompressRequestError: on an unknown method or an option out of range.
    """

    SECTION = "compress"
    error = CompressRequestError

    method: str = field(default="quantize-8bit", metadata={
        "help": "quantize-8bit, quantize-4bit, merge, prune, distill or gguf",
        "choices": METHODS})
    quant_type: str = field(default="nf4", metadata={
        "help": "4-bit data type: nf4 (normal float) or fp4", "choices": QUANT_TYPES})
    double_quant: bool = field(default=True, metadata={
        "help": "4-bit: quantize the quantization constants too (saves ~0.4 bit/weight)"})
    dtype: str = field(default="float32", metadata={
        "help": "merge: dtype of the saved weights", "choices": DTYPES})
    sparsity: float = field(default=0.5, metadata={
        "help": "prune: share of weights set to zero in each linear layer (0-1)"})
    structured: bool = field(default=False, metadata={
        "help": "prune: remove whole MLP channels (smaller, faster) instead of single weights"})
    gguf_type: str = field(default="f16", metadata={
        "help": "gguf: tensor type of the weight matrices", "choices": GGUF_TYPES})
    student_layers: int = field(default=0, metadata={
        "help": "distill: layers of the student, fewer than the teacher's (0: half of them)"})
    distill_steps: int = field(default=20, metadata={
        "help": "distill: optimizer steps"})
    temperature: float = field(default=2.0, metadata={
        "help": "distill: softmax temperature of the teacher and student logits"})
    kl_weight: float = field(default=0.5, metadata={
        "help": "distill: weight of the KL term; cross-entropy gets 1 - kl_weight"})
    learning_rate: float = field(default=1e-4, metadata={"help": "distill: learning rate"})
    batch_size: int = field(default=4, metadata={"help": "distill: records per step"})
    max_length: int = field(default=128, metadata={"help": "tokens per record"})
    eval_records: int = field(default=24, metadata={
        "help": "held-out records scored: perplexity, or accuracy and F1 for classifiers "
                "(0: skip quality)"})
    seed: int = field(default=0, metadata={"help": "seed of every random choice"})

    def check(self) -> None:
        self._check_choice("method", METHODS)
        self._check_choice("quant_type", QUANT_TYPES)
        self._check_choice("gguf_type", GGUF_TYPES)
        self._check_choice("dtype", DTYPES)
        if not 0.0 <= float(self.sparsity) < 1.0:
            raise CompressRequestError(
                f"field 'sparsity': {self.sparsity} is outside 0-1 (0 keeps every weight, "
                "0.5 zeroes half; 1 would remove everything)")
        if not 0.0 <= float(self.kl_weight) <= 1.0:
            raise CompressRequestError(f"field 'kl_weight': {self.kl_weight} is outside 0-1")
        for name in ("distill_steps", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise CompressRequestError(f"field '{name}' must be at least 1")
        if self.student_layers < 0 or self.eval_records < 0:
            raise CompressRequestError("fields 'student_layers' and 'eval_records' "
                                       "must not be negative")
        if self.max_length < 8:
            raise CompressRequestError("field 'max_length' must be at least 8")
        if self.temperature <= 0 or self.learning_rate <= 0:
            raise CompressRequestError("fields 'temperature' and 'learning_rate' must be > 0")

    def _check_choice(self, name: str, choices: tuple[str, ...]) -> None:
        value = getattr(self, name)
        if value not in choices:
            raise CompressRequestError(
                f"field '{name}': '{value}' is not one of {', '.join(choices)}")

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "recipe") -> "CompressRecipe":
        """Build a recipe; unknown keys are refused by name, values (from the command line:
        text) are cast to the field's type, then checked as every recipe is.

        Raises:
            CompressRequestError: naming ``where`` on an unknown key or a bad value.
        """
        known = {f.name: f for f in fields(cls)}
        values = dict(values)
        stamp = values.pop(VERSION_KEY, None)
        cast: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:  # refused by name below
                cast[name] = value
                continue
            kind = type(known[name].default)
            try:
                cast[name] = _cast(kind, value)
            except (TypeError, ValueError) as exc:
                raise CompressRequestError(
                    f"{where}: field '{name}': {value!r} is not a valid {kind.__name__}") from exc
        if stamp is not None:
            cast[VERSION_KEY] = stamp
        return super().from_dict(cast, where)


def _cast(kind: type, value: Any) -> Any:
    if kind is bool and isinstance(value, str):
        if value.lower() in {"1", "true", "yes", "on"}:
            return True
        if value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(value)
    return kind(value)


def help_for(name: str) -> str:
    """The help text of one recipe field."""
    return next(f.metadata.get("help", "") for f in fields(CompressRecipe) if f.name == name)


def bitsandbytes_problem(four_bit: bool) -> str | None:
    """Why bitsandbytes cannot quantize here, or ``None`` when it can.

    A tiny tensor is really quantized (and 4-bit de-quantized) on this machine's
    device, so a library that imports but has no working backend is caught too.
    """

    silence_quantization_warnings()
    try:
        import bitsandbytes.functional as bnb_functional
        import torch
    except Exception as exc:  # missing or broken install (native library errors too)
        return f"bitsandbytes cannot be imported ({exc})"

    device = "cuda" if detect().kind == "cuda" else "cpu"
    try:
        sample = torch.randn(64, 64, device=device)
        if four_bit:
            packed, state = bnb_functional.quantize_4bit(sample, quant_type="nf4")
            bnb_functional.dequantize_4bit(packed, state)
        else:
            bnb_functional.int8_vectorwise_quant(sample.half())
    except Exception as exc:
        kind = "4-bit" if four_bit else "8-bit"
        return f"bitsandbytes has no working {kind} kernels on this {device} ({exc})"
    return None


def _model_config(folder: Path) -> dict:
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CompressRequestError(f"{folder / 'config.json'}: cannot be read ({exc})") from exc


def gguf_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be written as GGUF, or ``None`` when it can."""
    config = _model_config(folder)
    model_type = config.get("model_type")
    if model_type not in GGUF_MODEL_TYPES:
        return (f"{folder / 'config.json'} field 'model_type': GGUF export supports the "
                f"Llama family ({', '.join(sorted(GGUF_MODEL_TYPES))}), not '{model_type}'")
    if config.get("quantization_config"):
        return (f"{folder / 'config.json'} field 'quantization_config': the model is already "
                "quantized; export the merged full-precision model instead")
    for name in ("attention_bias", "mlp_bias"):
        if config.get(name):
            return f"{folder / 'config.json'} field '{name}': biases are not supported in GGUF"
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    if rope.get("rope_type", "default") != "default":
        return (f"{folder / 'config.json'}: rope type '{rope.get('rope_type')}' is not "
                "supported in GGUF export (only plain RoPE)")
    tokenizer_file = folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        return f"{tokenizer_file} is missing; GGUF export needs a fast BPE tokenizer"
    try:
        model_kind = json.loads(tokenizer_file.read_text(encoding="utf-8"))["model"]["type"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        return f"{tokenizer_file}: cannot read field 'model.type' ({exc})"
    if model_kind != "BPE":
        return (f"{tokenizer_file} field 'model.type': only BPE tokenizers can be written "
                f"to GGUF here, not '{model_kind}'")
    return None


def check_request(recipe: CompressRecipe, folder: str | Path) -> None:
    """Check a recipe against its source model and this machine, before any work.

    Args:
        recipe: the compression to run.
        folder: the source model folder (merged or base model).

    Raises:
        CompressRequestError: naming what cannot be done and why.
    """
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise CompressRequestError(f"{folder}: not a model folder (config.json is missing)")
    config = _model_config(folder)
    if recipe.method != "merge" and config.get("quantization_config"):
        raise CompressRequestError(f"{folder} is already quantized; compress the "
                                   "full-precision model instead")
    if recipe.method.startswith("quantize-"):
        problem = bitsandbytes_problem(four_bit=recipe.method == "quantize-4bit")
        if problem:
            raise CompressRequestError(f"{recipe.method} cannot run here: {problem}")
    if recipe.method == "gguf":
        problem = gguf_problem(folder)
        if problem:
            raise CompressRequestError(f"gguf export cannot run: {problem}")
    if recipe.method == "distill":
        layers = int(config.get("num_hidden_layers", 0))
        if layers < 2:
            raise CompressRequestError(f"{folder}: distillation needs a teacher with at "
                                       f"least 2 layers, this one has {layers}")
        if recipe.student_layers >= layers:
            raise CompressRequestError(
                f"field 'student_layers': {recipe.student_layers} is not fewer than the "
                f"teacher's {layers} layers")
