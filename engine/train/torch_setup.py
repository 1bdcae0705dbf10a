"""Torch plumbing shared by training loops: seeds, device, loading, optimizer, atomic save.

Only heavy code paths import this module (it imports torch at the top).
"""

from __future__ import annotations

import random
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable

import torch

from engine.offline import refuse_remote_code


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    import numpy

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def training_device() -> tuple[torch.device, torch.dtype]:
    """CUDA in bfloat16 where supported, CUDA float32 otherwise, else CPU float32."""
    if torch.cuda.is_available():
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        return torch.device("cuda"), dtype
    return torch.device("cpu"), torch.float32


def load_causal_lm(model_folder: Path, dtype: torch.dtype, device: torch.device) -> Any:
    """Load a local causal LM from safetensors only, never remote code."""
    from transformers import AutoModelForCausalLM

    kwargs = refuse_remote_code({"dtype": dtype, "use_safetensors": True})
    model = AutoModelForCausalLM.from_pretrained(str(model_folder), **kwargs)
    return model.to(device)


def load_tokenizer(model_folder: Path) -> Any:
    """Load a local tokenizer and make sure it can pad."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_folder), **refuse_remote_code({}))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{model_folder}: the tokenizer has no chat template; "
                         "instruction training needs one")
    return tokenizer


def build_optimizer(name: str, parameters: list, learning_rate: float,
                    weight_decay: float) -> torch.optim.Optimizer:
    """An optimizer by recipe name (adamw, sgd, rmsprop)."""
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=learning_rate, weight_decay=weight_decay,
                               momentum=0.9)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=learning_rate, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


def write_folder_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Write a folder beside ``target`` under a temporary name, then rename it into place.

    An existing ``target`` is replaced only once the new folder is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    try:
        temporary.mkdir()
        write(temporary)
        if target.exists():
            target.rename(retired)
        temporary.rename(target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    return target
