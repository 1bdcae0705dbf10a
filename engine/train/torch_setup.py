"""Torch plumbing shared by training loops: seeds, device, tokenizer, optimizer.

Only heavy code paths import this module (it imports torch at the top).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from engine.models.loading import load_tokenizer
from engine.train.chat_template import ensure_chat_template


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


def load_instruct_tokenizer(model_folder: Path, fallback: bool = False) -> Any:
    """The model's tokenizer with a chat template for instruction tuning: its own, or with
    ``fallback`` Enclave's plain one (:mod:`engine.train.chat_template`)."""

    return ensure_chat_template(load_tokenizer(model_folder), model_folder, fallback)


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
