"""Checks before a run starts: the model, the recipe against the model, the device, memory.

Everything here fails fast with a message that names the setting and what to do, so a bad
recipe never starts a job that would die minutes later.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.models.registry import import_local, read_config
from engine.train.memory_estimate import estimate
from engine.train.recipe import TrainRecipe


class PreflightError(ValueError):
    """A recipe cannot run on this model or device; the message says why and what to change."""


@dataclass
class PreflightReport:
    """What the checks found: the memory estimate and warnings that do not block the run."""

    estimate: Any
    warnings: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=4)
def bitsandbytes_problem(device_kind: str) -> str | None:
    """Why bitsandbytes 4-bit cannot run on ``device_kind``, or None when it can."""
    try:
        import bitsandbytes.functional as bnb_functional
        import torch
    except Exception as exc:  # noqa: BLE001 (any import failure means "cannot run")
        return f"bitsandbytes cannot be imported ({exc})"
    try:
        sample = torch.zeros(128, dtype=torch.float32, device=device_kind)
        bnb_functional.quantize_4bit(sample, quant_type="nf4")
    except Exception as exc:  # noqa: BLE001
        return f"bitsandbytes has no 4-bit support on {device_kind} ({str(exc)[:120]})"
    return None


def _model_limit(config: dict) -> int | None:
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        if isinstance(config.get(key), int):
            return int(config[key])
    return None


def _check_task(info: Any, recipe: TrainRecipe) -> None:
    if recipe.task == "classification" and info.kind != "encoder":
        raise PreflightError(f"task classification needs an encoder model (BERT-like); "
                             f"{info.folder.name} is a {info.kind} model")
    if recipe.task != "classification" and info.kind != "causal":
        raise PreflightError(f"task {recipe.task} needs a causal language model; "
                             f"{info.folder.name} is an {info.kind} model "
                             "(use task classification)")


def _check_device(recipe: TrainRecipe, device: Any) -> None:
    if recipe.precision in ("bf16", "fp16") and device.kind != "cuda":
        raise PreflightError(f"precision {recipe.precision} needs a CUDA GPU; this machine "
                             f"trains on {device.kind}: use precision auto or fp32")
    if recipe.precision == "bf16" and not device.bf16:
        raise PreflightError(f"{device.name} has no bfloat16 support: use precision fp16")
    if recipe.method == "qlora" or recipe.optimizer == "adamw8bit":
        problem = bitsandbytes_problem("cuda" if device.kind == "cuda" else "cpu")
        if problem:
            what = "QLoRA" if recipe.method == "qlora" else "optimizer adamw8bit"
            raise PreflightError(f"{what} cannot run here: {problem}. Use method lora "
                                 "(or optimizer adamw).")


def check(model_folder: str | Path, recipe: TrainRecipe, device: Any = None,
          refuse_when_short: bool = True) -> PreflightReport:
    """Check that ``recipe`` can train ``model_folder`` on ``device`` before anything starts.

    Args:
        model_folder: the base model folder.
        recipe: the training recipe (already valid on its own).
        device: a DeviceInfo; detected when omitted.
        refuse_when_short: raise when the memory estimate exceeds the device's memory.

    Returns:
        The memory estimate and non-blocking warnings.

    Raises:
        PreflightError: naming the setting that cannot work and what to change.
        ModelRefused: when the folder is not a usable model folder.
    """

    if device is None:
        from engine.models.device import detect

        device = detect()
    info = import_local(model_folder)
    config = read_config(info.folder)
    _check_task(info, recipe)
    limit = _model_limit(config)
    if limit is not None and recipe.max_length > limit:
        raise PreflightError(f"max_length {recipe.max_length} is beyond what "
                             f"{info.folder.name} handles ({limit} tokens): set max_length "
                             f"<= {limit}")
    if recipe.init_adapter and not (Path(recipe.init_adapter) / "adapter_config.json").is_file():
        raise PreflightError(f"init_adapter {recipe.init_adapter}: no adapter_config.json there")
    if recipe.init_adapter and not recipe.uses_adapter:
        raise PreflightError("init_adapter continues an adapter: use method lora or qlora")
    _check_device(recipe, device)
    try:
        recipe.target_modules_for(str(config.get("model_type", "")))
    except ValueError as exc:
        if recipe.uses_adapter:
            raise PreflightError(str(exc)) from exc
    guess = estimate(info.folder, recipe, device)
    report = PreflightReport(guess)
    if not guess.fits:
        message = (f"this run needs {guess.summary()}; it does not fit. Try: "
                   + "; ".join(guess.suggestions))
        if refuse_when_short:
            raise PreflightError(message)
        report.warnings.append(message)
    elif guess.tight:
        report.warnings.append(f"memory is tight: {guess.summary()}. If it runs out, try: "
                               + "; ".join(guess.suggestions))
    return report
