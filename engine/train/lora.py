"""LoRA supervised fine-tuning of a causal LM: a plain torch loop over chat-formatted records.

Run: seed → load the base model (float32 on CPU, bfloat16 on CUDA where supported) → wrap it
with peft LoRA → optimizer + schedule → one event per step (loss, learning rate, tokens/s) and
a cancel check per step → save the adapter (safetensors) into a temporary folder, renamed into
place once complete. A cancelled or failed run leaves no adapter folder behind.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from engine.progress import Reporter, null_reporter
from engine.train.format import (EncodedExample, collate, encode_records,
                                 length_sorted_batches, token_nll)
from engine.train.lora_recipe import LoraRecipe

RECIPE_FILE = "enclave_recipe.json"


@dataclass
class TrainResult:
    """What a LoRA run produced."""

    adapter_dir: Path
    losses: list[tuple[int, float]]
    first_loss: float
    last_loss: float
    steps: int
    seconds: float
    tokens: int


def total_steps(example_count: int, recipe: LoraRecipe) -> int:
    """Optimizer steps of a run: ``max_steps`` if set, else epochs × steps per epoch."""
    batches = math.ceil(example_count / recipe.batch_size)
    return recipe.max_steps or recipe.epochs * math.ceil(batches / recipe.grad_accum)


def _step_groups(examples: list[EncodedExample], recipe: LoraRecipe,
                 steps: int) -> Iterator[list[list[EncodedExample]]]:
    """Micro-batches per optimizer step, reshuffled each epoch, for ``steps`` steps."""
    produced, epoch = 0, 0
    while True:
        batches = length_sorted_batches(examples, recipe.batch_size, recipe.seed + epoch)
        for begin in range(0, len(batches), recipe.grad_accum):
            if produced == steps:
                return
            produced += 1
            yield batches[begin:begin + recipe.grad_accum]
        epoch += 1


def _lora_model(model_folder: Path, recipe: LoraRecipe) -> Any:
    from peft import LoraConfig, get_peft_model

    from engine.models.loading import load_causal_lm
    from engine.train import torch_setup

    device, dtype = torch_setup.training_device()
    base = load_causal_lm(model_folder, dtype=dtype).to(device)
    config = LoraConfig(
        r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=recipe.dropout,
        target_modules=recipe.target_modules_for(base.config.model_type),
        bias="none", task_type="CAUSAL_LM")
    return get_peft_model(base, config)


def _optimizer_step(model: Any, group: list[list[EncodedExample]], pad_id: int,
                    optimizer: Any, scheduler: Any) -> tuple[float, int]:
    """Forward/backward every micro-batch, one optimizer step; token-weighted mean loss."""
    import torch

    device = model.get_input_embeddings().weight.device
    batches = [collate(batch, pad_id) for batch in group]
    label_tokens = sum(int((batch["labels"][:, 1:] != -100).sum()) for batch in batches)
    summed_nll, seen_tokens = 0.0, 0
    for batch in batches:
        batch = {key: value.to(device) for key, value in batch.items()}
        logits = model(input_ids=batch["input_ids"],
                       attention_mask=batch["attention_mask"]).logits
        nll, _ = token_nll(logits, batch["labels"])
        (nll / label_tokens).backward()
        summed_nll += float(nll.detach())
        seen_tokens += int(batch["attention_mask"].sum())
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return summed_nll / label_tokens, seen_tokens


def _save_adapter(model: Any, tokenizer: Any, recipe: LoraRecipe, model_folder: Path,
                  out_dir: Path) -> Path:
    from engine.fsutil import write_folder_atomically

    def write(folder: Path) -> None:
        model.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))
        (folder / RECIPE_FILE).write_text(json.dumps(
            {"method": "lora", "recipe": recipe.to_dict(),
             "base_model": str(model_folder), "versions": _library_versions()}, indent=2))

    return write_folder_atomically(out_dir, write)


def _library_versions() -> dict[str, str]:
    import peft
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "peft": peft.__version__}


def train_lora(model_folder: Path, records: list[dict], recipe: LoraRecipe, out_dir: Path,
               reporter: Reporter | None = None) -> TrainResult:
    """Fine-tune LoRA adapters on instruction records and save them to ``out_dir``.

    Args:
        model_folder: a local Hugging Face causal-LM folder (safetensors + tokenizer).
        records: ``{"prompt", "response"}`` or ``{"messages": [...]}`` dicts.
        recipe: the LoRA recipe.
        out_dir: the adapter folder to write (replaced atomically if it exists).
        reporter: receives one event per step; its cancel flag is checked every step.

    Returns:
        The adapter folder, per-step losses, step count, wall seconds and tokens seen.

    Raises:
        Cancelled: when the reporter's stop flag is raised; nothing is written then.
        ValueError: on malformed records, an unknown architecture or a tokenizer
            without a chat template.
    """
    from transformers import get_scheduler

    from engine.train import torch_setup

    reporter = reporter or null_reporter()
    torch_setup.seed_everything(recipe.seed)
    tokenizer = torch_setup.load_instruct_tokenizer(Path(model_folder))
    examples = encode_records(tokenizer, records, recipe.max_length)
    model = _lora_model(Path(model_folder), recipe)
    steps = total_steps(len(examples), recipe)
    optimizer = torch_setup.build_optimizer(
        recipe.optimizer, [p for p in model.parameters() if p.requires_grad],
        recipe.learning_rate, recipe.weight_decay)
    scheduler = get_scheduler(recipe.scheduler, optimizer, num_training_steps=steps,
                              num_warmup_steps=round(steps * recipe.warmup_ratio))
    model.train()
    losses: list[tuple[int, float]] = []
    tokens, started = 0, time.perf_counter()
    for step, group in enumerate(_step_groups(examples, recipe, steps), start=1):
        reporter.check_cancel()
        learning_rate = scheduler.get_last_lr()[0]
        loss, seen = _optimizer_step(model, group, tokenizer.pad_token_id, optimizer, scheduler)
        tokens += seen
        losses.append((step, loss))
        if step % recipe.logging_every == 0 or step == steps:
            elapsed = time.perf_counter() - started
            reporter.report(step, steps, f"step {step}/{steps}", loss=loss, lr=learning_rate,
                            tokens_per_s=tokens / max(elapsed, 1e-9))
    reporter.check_cancel()
    seconds = time.perf_counter() - started
    adapter_dir = _save_adapter(model, tokenizer, recipe, Path(model_folder), Path(out_dir))
    return TrainResult(adapter_dir, losses, losses[0][1], losses[-1][1], steps, seconds, tokens)
