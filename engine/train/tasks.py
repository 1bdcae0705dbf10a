"""The three training tasks: records → examples → batches → summed loss.

* instruction: chat records through the model's chat template, loss on the answers only
  (:mod:`engine.train.format`).
* text: ``{"text": str}`` records for continued pre-training; loss on every token; with
  packing the texts are joined (EOS between them) and cut into full ``max_length`` blocks.
* classification: ``{"text", "label"}`` or ``{"text", "text_pair", "label"}`` records for an
  encoder with a classification head; labels are names or integers.

Every task returns ``(summed_loss, count)`` per micro-batch, so gradient accumulation weighs
tokens (causal) or examples (classification) equally across micro-batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from engine.train.format import IGNORE_INDEX, EncodedExample, collate, encode_records, token_nll


@dataclass
class ClassExample:
    """One encoded classification example."""

    input_ids: list[int]
    token_type_ids: list[int]
    label: int


@dataclass
class TaskData:
    """Encoded examples of one task, and the label names of a classification task."""

    task: str
    examples: list[Any]
    label_names: list[str] = field(default_factory=list)


def encode_text_records(tokenizer: Any, records: Sequence[dict], max_length: int,
                        packing: bool) -> list[EncodedExample]:
    """Plain texts → causal examples with a loss on every token.

    Raises:
        ValueError: naming the record when ``text`` is missing, or when nothing is left.
    """
    token_lists = []
    for index, record in enumerate(records):
        text = record.get("text") if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"record {index}: field 'text' must be a non-empty string")
        token_lists.append(list(tokenizer(text, add_special_tokens=False)["input_ids"]))
    if packing:
        stream: list[int] = []
        for ids in token_lists:
            stream += ids + [tokenizer.eos_token_id]
        chunks = [stream[at:at + max_length] for at in range(0, len(stream), max_length)]
    else:
        chunks = [ids[:max_length] for ids in token_lists]
    examples = [EncodedExample(list(ids), list(ids)) for ids in chunks if len(ids) >= 2]
    if not examples:
        raise ValueError(f"none of the {len(records)} texts has two tokens or more")
    return examples


def encode_class_records(tokenizer: Any, records: Sequence[dict], max_length: int,
                         label_names: list[str] | None = None) -> TaskData:
    """Texts (or text pairs) with labels → classification examples.

    Args:
        label_names: fixed label order (e.g. from an earlier run); by default the sorted
            distinct labels of ``records``.

    Raises:
        ValueError: naming the record and field when a text or label is missing or unknown.
    """
    for index, record in enumerate(records):
        if not isinstance(record.get("text"), str):
            raise ValueError(f"record {index}: field 'text' must be a string")
        if "text_pair" in record and not isinstance(record["text_pair"], str):
            raise ValueError(f"record {index}: field 'text_pair' must be a string")
        if not isinstance(record.get("label"), (str, int)) or isinstance(record["label"], bool):
            raise ValueError(f"record {index}: field 'label' must be a string or integer")
    names = label_names or sorted({str(record["label"]) for record in records})
    if len(names) < 2:
        raise ValueError(f"classification needs at least two distinct labels, got {names}")
    index_of = {name: position for position, name in enumerate(names)}
    examples = []
    for index, record in enumerate(records):
        if str(record["label"]) not in index_of:
            raise ValueError(f"record {index}: label {record['label']!r} is not one of {names}")
        encoded = tokenizer(record["text"], record.get("text_pair"), truncation=True,
                            max_length=max_length)
        types = encoded.get("token_type_ids") or [0] * len(encoded["input_ids"])
        examples.append(ClassExample(list(encoded["input_ids"]), list(types),
                                     index_of[str(record["label"])]))
    return TaskData("classification", examples, names)


def encode_task(task: str, tokenizer: Any, records: Sequence[dict], max_length: int,
                packing: bool = False, label_names: list[str] | None = None) -> TaskData:
    """Encode records for ``task`` (instruction, text or classification)."""
    if task == "instruction":
        return TaskData(task, encode_records(tokenizer, records, max_length))
    if task == "text":
        return TaskData(task, encode_text_records(tokenizer, records, max_length, packing))
    if task == "classification":
        return encode_class_records(tokenizer, records, max_length, label_names)
    raise ValueError(f"unknown task {task!r}")


def collate_task(task: str, batch: Sequence[Any], pad_id: int) -> dict[str, Any]:
    """Pad one micro-batch into tensors for ``task``."""
    if task != "classification":
        return collate(batch, pad_id)
    import torch

    width = max(len(example.input_ids) for example in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    token_types = torch.zeros((len(batch), width), dtype=torch.long)
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, example in enumerate(batch):
        size = len(example.input_ids)
        input_ids[row, :size] = torch.tensor(example.input_ids)
        token_types[row, :size] = torch.tensor(example.token_type_ids)
        attention_mask[row, :size] = 1
    labels = torch.tensor([example.label for example in batch], dtype=torch.long)
    return {"input_ids": input_ids, "token_type_ids": token_types,
            "attention_mask": attention_mask, "labels": labels}


def loss_count(task: str, batch: dict[str, Any]) -> int:
    """What a micro-batch's loss is averaged over: scored tokens, or examples."""
    if task == "classification":
        return int(batch["labels"].numel())
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())


def summed_loss(task: str, model: Any, batch: dict[str, Any]) -> Any:
    """Forward one micro-batch (already on the device); the summed loss as a tensor."""
    import torch.nn.functional as functional

    if task == "classification":
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                       token_type_ids=batch["token_type_ids"]).logits
        return functional.cross_entropy(logits.float(), batch["labels"], reduction="sum")
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return token_nll(logits, batch["labels"])[0]
