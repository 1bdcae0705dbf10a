"""Knowledge distillation of a causal LM into a shallower student of the same family.

The student is the teacher's config with fewer decoder layers, initialised from evenly
spaced teacher layers (embeddings, final norm and head copied). It learns on the
project's instruction records, encoded exactly as for training
(:func:`engine.train.format.encode_records`), with

    loss = kl_weight * T² * KL(softmax(teacher / T) ‖ softmax(student / T))
           + (1 - kl_weight) * cross-entropy(student, answer tokens)

taken on the answer tokens only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.compress.checksums import write_checksums
from engine.compress.recipe import CompressRecipe
from engine.fsutil import write_folder_atomically
from engine.models.loading import load_causal_lm
from engine.progress import Reporter, null_reporter
from engine.train.format import IGNORE_INDEX, collate, encode_records, length_sorted_batches


@dataclass
class DistillResult:
    """The student folder and how its training went."""

    folder: Path
    teacher_layers: int
    student_layers: int
    kept_layers: list[int]
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def spaced_layers(teacher_layers: int, student_layers: int) -> list[int]:
    """Evenly spaced teacher layer indices, first and last included."""
    if student_layers == 1:
        return [0]
    step = (teacher_layers - 1) / (student_layers - 1)
    return [round(i * step) for i in range(student_layers)]


def renumbered_layers(state: dict[str, Any], kept: list[int]) -> dict[str, Any]:
    """A state dict with only the ``kept`` layers, renumbered 0, 1, ...

    Layer tensors are recognised by a ``layers.<n>.`` (decoders) or ``layer.<n>.``
    (BERT-style encoders) part of their name; every other tensor is kept as it is.
    """
    state_out = {}
    for name, tensor in state.items():
        parts = name.split(".")
        at = next((i + 1 for i, part in enumerate(parts[:-1])
                   if part in ("layers", "layer") and parts[i + 1].isdigit()), None)
        if at is not None:
            layer = int(parts[at])
            if layer not in kept:
                continue
            parts[at] = str(kept.index(layer))
        state_out[".".join(parts)] = tensor.clone()
    return state_out


def build_student(teacher: Any, student_layers: int) -> tuple[Any, list[int]]:
    """A shallower copy of ``teacher`` initialised from its layers.

    Returns:
        The student model and the teacher layers it was built from.
    """
    import copy

    from transformers import AutoModelForCausalLM

    kept = spaced_layers(teacher.config.num_hidden_layers, student_layers)
    config = copy.deepcopy(teacher.config)
    config.num_hidden_layers = student_layers
    if getattr(config, "layer_types", None):
        config.layer_types = [config.layer_types[i] for i in kept]
    student = AutoModelForCausalLM.from_config(config, dtype=teacher.dtype)
    student.load_state_dict(renumbered_layers(teacher.state_dict(), kept), strict=False)
    student.tie_weights()
    return student, kept


def softened_kl(student_logits: Any, teacher_logits: Any, temperature: float) -> Any:
    """``T² · KL(softmax(teacher / T) ‖ softmax(student / T))``, averaged over rows.

    The T² factor keeps the gradient scale of the soft term independent of T
    (Hinton et al., 2015).
    """
    import torch.nn.functional as functional

    return functional.kl_div(functional.log_softmax(student_logits / temperature, dim=-1),
                             functional.log_softmax(teacher_logits / temperature, dim=-1),
                             log_target=True, reduction="batchmean") * temperature ** 2


def distillation_loss(student_logits: Any, teacher_logits: Any, labels: Any,
                      temperature: float, kl_weight: float) -> Any:
    """KL on softened logits plus cross-entropy, over labelled (answer) positions."""
    import torch.nn.functional as functional


    shifted = functional.pad(labels, (0, 1), value=IGNORE_INDEX)[:, 1:]
    mask = shifted != IGNORE_INDEX
    student, teacher = student_logits[mask].float(), teacher_logits[mask].float()
    cross_entropy = functional.cross_entropy(student, shifted[mask])
    kl = softened_kl(student, teacher, temperature)
    return kl_weight * kl + (1 - kl_weight) * cross_entropy


def _batches(tokenizer: Any, records: list[dict], recipe: CompressRecipe) -> list:

    examples = encode_records(tokenizer, records, recipe.max_length)
    batches = length_sorted_batches(examples, recipe.batch_size, recipe.seed)
    return [batches[i % len(batches)] for i in range(recipe.distill_steps)]


def _train(teacher: Any, student: Any, tokenizer: Any, records: list[dict],
           recipe: CompressRecipe, reporter: Reporter) -> list[float]:
    import torch


    # Embeddings (tied to the head in small models) stay frozen: a few steps on few
    # records would only blur them, and their optimizer state dominates memory.
    student.get_input_embeddings().weight.requires_grad_(False)
    trainable = [p for p in student.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=recipe.learning_rate)
    student.train()
    losses = []
    for step, batch in enumerate(_batches(tokenizer, records, recipe), start=1):
        reporter.check_cancel()
        inputs = collate(batch, tokenizer.pad_token_id)
        model_inputs = {"input_ids": inputs["input_ids"],
                        "attention_mask": inputs["attention_mask"]}
        with torch.inference_mode():
            teacher_logits = teacher(**model_inputs).logits
        loss = distillation_loss(student(**model_inputs).logits, teacher_logits.clone(),
                                 inputs["labels"], recipe.temperature, recipe.kl_weight)
        losses.append(optimizer_step(loss, trainable, optimizer, step))
        reporter.report(step, recipe.distill_steps, f"step {step}", loss=losses[-1])
    student.eval()
    return losses


def optimizer_step(loss, trainable: list, optimizer, step: int) -> float:
    """Backward, clip to norm 1, step; the loss value, refused when not finite."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    value = loss.item()
    if not math.isfinite(value):
        raise FloatingPointError(f"distillation loss became {value} at step {step}; "
                                 "lower the learning rate")
    return value


def distill_to_folder(teacher_folder: str | Path, records: list[dict], out: str | Path,
                      recipe: CompressRecipe, reporter: Reporter | None = None
                      ) -> DistillResult:
    """Distill a teacher into a shallower student and save the student.

    Args:
        teacher_folder: the tuned (merged) model folder.
        records: instruction records to learn on (the project's training data).
        out: the student folder to write (atomically).
        recipe: ``distill`` recipe (student_layers, steps, temperature, kl_weight...).
        reporter: one event per step, with the loss.

    Returns:
        The student folder, the layer mapping and the loss per step.

    Raises:
        ValueError: on malformed records or a student not smaller than the teacher.
        FileExistsError: if ``out`` exists.
    """
    from engine.train.torch_setup import load_instruct_tokenizer, seed_everything

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new output folder")
    reporter = reporter or null_reporter()
    seed_everything(recipe.seed)
    teacher = load_causal_lm(teacher_folder, dtype="float32")
    tokenizer = load_instruct_tokenizer(Path(teacher_folder))
    layers = teacher.config.num_hidden_layers
    wanted = recipe.student_layers or max(1, layers // 2)
    if wanted >= layers:
        raise ValueError(f"student_layers {wanted} is not fewer than the teacher's {layers}")
    student, kept = build_student(teacher, wanted)
    started = time.perf_counter()
    losses = _train(teacher, student, tokenizer, records, recipe, reporter)

    def write(folder: Path) -> None:
        student.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))
        write_checksums(folder)

    write_folder_atomically(out, write)
    return DistillResult(out, layers, wanted, kept, losses, time.perf_counter() - started)
