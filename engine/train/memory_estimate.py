"""Peak memory of a training run, estimated before it starts, from the folder alone.

Reads ``config.json`` and the safetensors headers (no weights, no torch): parameter shapes
give the weights, the trainable share (LoRA factors on the target modules, or everything),
gradients and optimizer states; the config gives the activations for a micro-batch of
``batch_size × max_length`` tokens and the logits over the vocabulary. A fixed runtime share
covers the libraries (and the CUDA context on a GPU). ``bench/bench_memory_estimate.py``
checks the figures against measured peak memory.

Several processes (one per GPU): under DDP every GPU holds the whole model plus a bucket copy
of the gradients for the all-reduce; under FSDP weights, gradients and optimizer states are
sharded, so each GPU holds its share (plus one gathered layer). The figures are per GPU.
The parameter names of the families Enclave trains (Llama, Mistral, Qwen2, Gemma2, Phi-3,
GPT-2, BERT, RoBERTa, DeBERTa-v2, ModernBERT) are covered by the LoRA target table and the
embedding names below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.models.registry import read_config, safetensors_header
from engine.train.recipe import TrainRecipe

MB = 1024 * 1024
# Bytes per trainable parameter held by the optimizer (fp32 states unless noted).
OPTIMIZER_BYTES = {"adamw": 8, "sgd": 4, "rmsprop": 4, "adafactor": 0.1, "adamw8bit": 2}
# Libraries, allocator slack and (on a GPU) the CUDA context.
RUNTIME_BYTES = {"cpu": 700 * MB, "cuda": 900 * MB, "mps": 900 * MB}
# Activation floats kept per token per layer, as multiples of hidden and intermediate size,
# and copies of the (tokens × vocabulary) logits alive at the loss.
HIDDEN_FACTOR, INTERMEDIATE_FACTOR, LOGITS_COPIES = 14.0, 5.0, 3.0
CHECKPOINTED_HIDDEN_FACTOR = 2.0


@dataclass
class MemoryEstimate:
    """The estimate, in bytes per part, and whether it fits the device."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    runtime: int
    available: int
    trainable_parameters: int
    total_parameters: int
    suggestions: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations + self.runtime

    @property
    def fits(self) -> bool:
        return not self.available or self.total <= self.available

    @property
    def tight(self) -> bool:
        """Fits, but with less than 15 % to spare."""
        return bool(self.available) and self.fits and self.total > 0.85 * self.available

    def summary(self) -> str:
        """One line for people: total, parts and what is available."""
        parts = ", ".join(f"{name} {getattr(self, name) / MB:,.0f} MB" for name in
                          ("weights", "gradients", "optimizer", "activations", "runtime"))
        room = f" of {self.available / MB:,.0f} MB available" if self.available else ""
        return f"about {self.total / MB:,.0f} MB{room} ({parts})"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total, "fits": self.fits, "tight": self.tight}


def _tensor_shapes(folder: Path) -> dict[str, list[int]]:

    shapes: dict[str, list[int]] = {}
    for path in sorted(Path(folder).glob("*.safetensors")):
        for name, entry in safetensors_header(path).items():
            if name != "__metadata__":
                shapes[name] = [int(d) for d in entry.get("shape", [])]
    return shapes


def _count(shape: list[int]) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total


def _is_embedding(name: str) -> bool:
    return any(part in name for part in ("embed", "lm_head", "wte", "wpe", "shared",
                                         "tok_embeddings"))


def _lora_parameters(shapes: dict[str, list[int]], recipe: TrainRecipe, model_type: str) -> int:
    targets = set(recipe.target_modules_for(model_type))
    total = 0
    for name, shape in shapes.items():
        parts = name.split(".")
        if len(shape) == 2 and len(parts) >= 2 and parts[-1] == "weight" and parts[-2] in targets:
            total += recipe.rank * (shape[0] + shape[1]) + (shape[0] if recipe.use_dora else 0)
    return total


def _weight_bytes(shapes: dict[str, list[int]], method: str, dtype_bytes: int) -> int:
    if method != "qlora":
        return sum(_count(s) for s in shapes.values()) * dtype_bytes
    total = 0
    for name, shape in shapes.items():
        quantized = len(shape) == 2 and not _is_embedding(name)
        # NF4: half a byte per weight, plus double-quantised block constants (~0.13 bits).
        total += _count(shape) * (0.52 if quantized else dtype_bytes)
    return int(total)


def _activation_bytes(config: dict, recipe: TrainRecipe, dtype_bytes: int) -> int:
    hidden = int(config.get("hidden_size") or config.get("n_embd") or 768)
    layers = int(config.get("num_hidden_layers") or config.get("n_layer") or 12)
    inter = int(config.get("intermediate_size") or config.get("n_inner") or 4 * hidden)
    heads = int(config.get("num_attention_heads") or config.get("n_head") or 12)
    vocab = int(config.get("vocab_size") or 32000)
    tokens, seq = recipe.batch_size * recipe.max_length, recipe.max_length
    if recipe.gradient_checkpointing:
        per_layer = tokens * hidden * CHECKPOINTED_HIDDEN_FACTOR
        one_layer = tokens * (HIDDEN_FACTOR * hidden + INTERMEDIATE_FACTOR * inter)
        floats = layers * per_layer + one_layer + recipe.batch_size * heads * seq * seq
    else:
        per_layer = tokens * (HIDDEN_FACTOR * hidden + INTERMEDIATE_FACTOR * inter)
        floats = layers * (per_layer + recipe.batch_size * heads * seq * seq)
    head = tokens * 2 * 4 if recipe.task == "classification" else tokens * vocab * 4 \
        * LOGITS_COPIES
    return int(floats * dtype_bytes + head)


def estimate(model_folder: str | Path, recipe: TrainRecipe, device: Any = None,
             processes: int = 1, strategy: str = "ddp") -> MemoryEstimate:
    """Estimate peak training memory for a model folder, recipe and device (per GPU).

    Args:
        model_folder: a local model folder (config.json + safetensors).
        recipe: the training recipe (method, batch, sequence length, optimizer...).
        device: a :class:`engine.models.device.DeviceInfo`; detected when omitted.
        processes: processes (GPUs) training together.
        strategy: ``ddp`` (every GPU holds the model) or ``fsdp`` (sharded).

    Returns:
        The estimate with suggestions when it does not fit or is tight.

    Raises:
        ModelRefused: when config.json is unreadable.
        ValueError: for an architecture without default LoRA targets.
    """

    if device is None:
        from engine.models.device import detect

        device = detect()
    folder = Path(model_folder)
    config, shapes = read_config(folder), _tensor_shapes(folder)
    dtype_bytes = 2 if device.kind == "cuda" and device.bf16 and recipe.precision == "auto" \
        else 4
    total_parameters = sum(_count(s) for s in shapes.values())
    trainable = total_parameters if recipe.method == "full" else \
        _lora_parameters(shapes, recipe, str(config.get("model_type", "")))
    grad_bytes = 4 if recipe.method != "full" else dtype_bytes
    weights = _weight_bytes(shapes, recipe.method, dtype_bytes)
    gradients = trainable * grad_bytes
    optimizer = int(trainable * OPTIMIZER_BYTES[recipe.optimizer])
    if processes > 1 and strategy == "fsdp":
        layers = int(config.get("num_hidden_layers") or config.get("n_layer") or 1)
        weights = weights // processes + weights // max(layers, 1)  # own shard + one gathered
        gradients, optimizer = gradients // processes, optimizer // processes
    elif processes > 1:
        gradients *= 2  # DDP's all-reduce buckets hold a second copy
    result = MemoryEstimate(
        weights=weights,
        gradients=gradients,
        optimizer=optimizer,
        activations=_activation_bytes(config, recipe, dtype_bytes),
        runtime=RUNTIME_BYTES.get(device.kind, RUNTIME_BYTES["cpu"]),
        available=int(device.memory_bytes), trainable_parameters=trainable,
        total_parameters=total_parameters)
    if not result.fits or result.tight:
        result.suggestions = suggestions(recipe)
    return result


def suggestions(recipe: TrainRecipe) -> list[str]:
    """What would lower memory, most effective first."""
    found = []
    if recipe.method == "full":
        found.append("method lora (trains 1 % of the weights) or qlora (4-bit base model)")
    elif recipe.method == "lora":
        found.append("method qlora (4-bit base model)")
    if not recipe.gradient_checkpointing:
        found.append("gradient_checkpointing = true")
    if recipe.batch_size > 1:
        found.append(f"batch_size {max(1, recipe.batch_size // 2)} with grad_accum "
                     f"{recipe.grad_accum * 2}")
    if recipe.max_length > 128:
        found.append(f"max_length {recipe.max_length // 2}")
    if recipe.optimizer in ("adamw", "rmsprop", "sgd"):
        found.append("optimizer adafactor or adamw8bit")
    return found
