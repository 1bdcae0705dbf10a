"""Knowledge distillation of a tuned text classifier into a shallower student.

A classifier here is an encoder with a sequence-classification head (for example the
bundled MiniLM tuned with ``enclave train`` on task ``classification``). The student is
the teacher's config with fewer encoder layers, initialised from the teacher's *lower*
layers, with embeddings, pooler and classification head copied: dropping the top layers
of a fine-tuned encoder costs less than dropping others (Sajjad et al., "On the effect
of dropping layers of pre-trained transformer models", 2023). It learns on the project's
``{"text", "label"}`` (or text-pair) records, encoded exactly as for training
(:func:`engine.train.tasks.encode_class_records`), with

    loss = kl_weight * T² * KL(softmax(teacher / T) ‖ softmax(student / T))
           + (1 - kl_weight) * cross-entropy(student, label)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

from engine.compress.checksums import write_checksums
from engine.compress.distill import DistillResult, optimizer_step, renumbered_layers, softened_kl
from engine.compress.recipe import CompressRecipe, CompressRequestError
from engine.fsutil import write_folder_atomically
from engine.models.loading import load_tokenizer
from engine.models.registry import import_local
from engine.offline import refuse_remote_code
from engine.progress import Reporter, null_reporter
from engine.train.format import length_sorted_batches
from engine.train.tasks import collate_task, encode_class_records


def load_classifier(folder: str | Path, dtype: str = "float32") -> Any:
    """Load a sequence-classification model from a local folder (safetensors only).

    Raises:
        ModelRefused: if the folder is not a safe, complete model folder.
    """
    import torch
    from transformers import AutoModelForSequenceClassification


    info = import_local(folder)
    kwargs = refuse_remote_code({"use_safetensors": True, "dtype": getattr(torch, dtype)})
    return AutoModelForSequenceClassification.from_pretrained(str(info.folder), **kwargs).eval()


def label_names(model: Any) -> list[str]:
    """The model's label names in class-index order."""
    id2label = model.config.id2label
    return [str(id2label[i]) for i in range(len(id2label))]


def build_classifier_student(teacher: Any, student_layers: int) -> tuple[Any, list[int]]:
    """A copy of ``teacher`` keeping its lower ``student_layers`` encoder layers.

    Returns:
        The student model (same dtype, on the CPU) and the teacher layers it kept.

    Raises:
        CompressRequestError: when ``student_layers`` is not between 1 and the teacher's
            layers minus one.
    """
    import copy

    from transformers import AutoModelForSequenceClassification

    layers = teacher.config.num_hidden_layers
    if not 1 <= student_layers < layers:
        raise CompressRequestError(f"field 'student_layers': {student_layers} must be at "
                                   f"least 1 and fewer than the teacher's {layers} layers")
    kept = list(range(student_layers))
    config = copy.deepcopy(teacher.config)
    config.num_hidden_layers = student_layers
    student = AutoModelForSequenceClassification.from_config(config, dtype=teacher.dtype)
    state = {name: tensor.cpu() for name, tensor in teacher.state_dict().items()}
    missing, unexpected = student.load_state_dict(renumbered_layers(state, kept), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"student and teacher weights do not line up: missing {missing[:3]}, "
                           f"unexpected {unexpected[:3]}")
    return student, kept


def classifier_distillation_loss(student_logits: Any, teacher_logits: Any, labels: Any,
                                 temperature: float, kl_weight: float) -> Any:
    """``kl_weight · T² · KL(teacher ‖ student) + (1 − kl_weight) · CE(student, labels)``."""
    import torch.nn.functional as functional

    student, teacher = student_logits.float(), teacher_logits.float()
    cross_entropy = functional.cross_entropy(student, labels)
    return kl_weight * softened_kl(student, teacher, temperature) \
        + (1 - kl_weight) * cross_entropy


def _step_batches(examples: list, recipe: CompressRecipe) -> Iterator[list]:
    """``distill_steps`` batches, reshuffled with ``seed + pass`` on every pass."""

    produced, epoch = 0, 0
    while True:
        for batch in length_sorted_batches(examples, recipe.batch_size, recipe.seed + epoch):
            if produced == recipe.distill_steps:
                return
            produced += 1
            yield batch
        epoch += 1


def _train(teacher: Any, student: Any, examples: list, pad_id: int, recipe: CompressRecipe,
           reporter: Reporter) -> list[float]:
    import torch


    device = next(teacher.parameters()).device
    # The word embeddings (half of a small encoder) stay frozen: a few steps would only
    # blur them, and their optimizer state would dominate memory.
    student.get_input_embeddings().weight.requires_grad_(False)
    trainable = [p for p in student.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=recipe.learning_rate)
    student.train()
    losses: list[float] = []
    for step, batch in enumerate(_step_batches(examples, recipe), start=1):
        reporter.check_cancel()
        tensors = collate_task("classification", batch, pad_id)
        labels = tensors["labels"].to(device)
        tensors = {key: tensors[key].to(device)
                   for key in ("input_ids", "attention_mask", "token_type_ids")}
        with torch.inference_mode():
            teacher_logits = teacher(**tensors).logits
        loss = classifier_distillation_loss(student(**tensors).logits, teacher_logits.clone(),
                                            labels, recipe.temperature, recipe.kl_weight)
        losses.append(optimizer_step(loss, trainable, optimizer, step))
        reporter.report(step, recipe.distill_steps, f"step {step}", loss=losses[-1])
    student.eval()
    return losses


def distill_classifier_to_folder(teacher_folder: str | Path, records: list[dict],
                                 out: str | Path, recipe: CompressRecipe,
                                 reporter: Reporter | None = None) -> DistillResult:
    """Distill a tuned classifier into a student with fewer layers and save the student.

    Args:
        teacher_folder: the tuned classifier (a full model folder, adapters merged).
        records: ``{"text", "label"}`` records (``text_pair`` optional) to learn on.
        out: the student folder to write (atomically); it must not exist.
        recipe: ``distill`` recipe: student_layers (0: half of the teacher's), steps,
            temperature, kl_weight, learning_rate, batch_size, max_length, seed.
        reporter: one event per step, with the loss.

    Returns:
        The student folder, the kept teacher layers and the loss per step.

    Raises:
        ValueError: naming the record and field of a malformed record or unknown label.
        CompressRequestError: when the student would not be smaller than the teacher.
        FileExistsError: if ``out`` exists.
    """
    from engine.train.torch_setup import seed_everything, training_device

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new output folder")
    reporter = reporter or null_reporter()
    seed_everything(recipe.seed)
    teacher = load_classifier(teacher_folder)
    tokenizer = load_tokenizer(teacher_folder)
    data = encode_class_records(tokenizer, records, recipe.max_length, label_names(teacher))
    layers = teacher.config.num_hidden_layers
    wanted = recipe.student_layers or max(1, layers // 2)
    student, kept = build_classifier_student(teacher, wanted)
    device = training_device()[0]
    teacher, student = teacher.to(device), student.to(device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    started = time.perf_counter()
    losses = _train(teacher, student, data.examples, pad_id, recipe, reporter)

    def write(folder: Path) -> None:
        student.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))
        write_checksums(folder)

    write_folder_atomically(out, write)
    return DistillResult(out, layers, wanted, kept, losses, time.perf_counter() - started)
