"""Build the model to train for a recipe: base model (float or 4-bit) + LoRA/DoRA, or full.

Only heavy code paths import this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.models.loading import _quantization_config, load_causal_lm
from engine.models.registry import import_local
from engine.offline import refuse_remote_code
from engine.train.kernels import apply_fused_kernels, enable_tf32
from engine.train.recipe import TrainRecipe


def compute_dtype(recipe: TrainRecipe) -> Any:
    """The dtype the weights are loaded in: auto → bf16 on a capable GPU, else fp32.

    Explicit bf16/fp16 keep float32 weights and run the forward pass under autocast.
    """
    from engine.train import torch_setup

    if recipe.precision == "auto":
        return torch_setup.training_device()[1]
    import torch

    return torch.float32


def load_base(model_folder: Path, recipe: TrainRecipe, label_names: list[str]) -> Any:
    """The base model of the recipe's task, 4-bit NF4 (double quantised) for QLoRA."""

    dtype = compute_dtype(recipe)
    quantize = "4bit" if recipe.method == "qlora" else None
    if recipe.task != "classification":
        return load_causal_lm(model_folder, quantize=quantize, dtype=dtype)
    from transformers import AutoModelForSequenceClassification


    info = import_local(model_folder)
    kwargs = refuse_remote_code({"use_safetensors": True, "dtype": dtype})
    if quantize:
        kwargs["quantization_config"] = _quantization_config(quantize, dtype)
    return AutoModelForSequenceClassification.from_pretrained(
        str(info.folder), num_labels=len(label_names),
        id2label=dict(enumerate(label_names)),
        label2id={name: i for i, name in enumerate(label_names)}, **kwargs)


def build_model(model_folder: Path, recipe: TrainRecipe, label_names: list[str],
                device: Any = None) -> Any:
    """The trainable model on ``device`` (default: the training device), in train mode.

    Raises:
        ValueError: for an architecture without default LoRA targets.
    """
    from engine.train import torch_setup

    base = load_base(Path(model_folder), recipe, label_names)
    device = device if device is not None else torch_setup.training_device()[0]
    enable_tf32(device)
    if recipe.fused_kernels and recipe.task != "classification":
        apply_fused_kernels(base, device)
    if recipe.method != "qlora":
        base = base.to(device)
    if recipe.method == "full":
        model = base
        for parameter in model.parameters():
            parameter.requires_grad_(True)
        if recipe.gradient_checkpointing:
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False})
    else:
        model = _with_adapter(base, recipe)
    model.train()
    return model


def _with_adapter(base: Any, recipe: TrainRecipe) -> Any:
    from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training

    checkpointing = recipe.gradient_checkpointing
    if recipe.method == "qlora":
        base = prepare_model_for_kbit_training(
            base, use_gradient_checkpointing=checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False})
    elif checkpointing:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        base.enable_input_require_grads()
    if recipe.init_adapter:
        return PeftModel.from_pretrained(base, recipe.init_adapter, is_trainable=True)
    task_type = "SEQ_CLS" if recipe.task == "classification" else "CAUSAL_LM"
    config = LoraConfig(
        r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=recipe.dropout,
        target_modules=recipe.target_modules_for(base.config.model_type),
        use_dora=recipe.use_dora, bias="none", task_type=task_type)
    return get_peft_model(base, config)


def build_optimizer(recipe: TrainRecipe, parameters: list) -> Any:
    """The recipe's optimizer over ``parameters``."""
    import torch

    from engine.train import torch_setup

    name, lr, decay = recipe.optimizer, recipe.learning_rate, recipe.weight_decay
    if name == "adafactor":
        return torch.optim.Adafactor(parameters, lr=lr, weight_decay=decay)
    if name == "adamw8bit":
        import bitsandbytes

        return bitsandbytes.optim.AdamW8bit(parameters, lr=lr, weight_decay=decay)
    return torch_setup.build_optimizer(name, parameters, lr, decay)


def autocast(recipe: TrainRecipe, device: Any) -> Any:
    """The forward-pass autocast context of the recipe's precision (a no-op for fp32/auto)."""
    import contextlib

    import torch

    if recipe.precision in ("bf16", "fp16") and device.type == "cuda":
        dtype = torch.bfloat16 if recipe.precision == "bf16" else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()
