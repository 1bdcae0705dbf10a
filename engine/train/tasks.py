"""The three training tasks: records → examples → batches → summed loss.

* instruction: chat records through the model's chat template, loss on the answers only
  (:mod:`engine.train.format`).
* text: ``{"text": str}`` records for continued pre-training; loss on every token; with
  packing the texts are joined (EOS between them) and cut into full ``max_length`` blocks.
* classification: ``{"text", "label"}`` or ``{"text", "text_pair", "label"}`` records for an
  encoder with a classification head; labels are names or integers.

Every task returns ``(summed_loss, count)`` per micro-batch, so gradient accumulation weighs
tokens (causal) or examples (classification) equally across micro-batches.
The causal loss (:mod:`engine.train.losses`) projects onto the vocabulary only at the
positions that carry a loss. Examples may carry a weight (re-weighting by group,
:mod:`engine.train.weights`); then the summed loss weighs each example's tokens by it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Sequence

from engine.train.format import IGNORE_INDEX, EncodedExample, collate, encode_record, encode_records
from engine.train.losses import causal_summed_loss, summed_cross_entropy


@dataclass
class WeightedExample(EncodedExample):
    """A causal example whose loss counts ``weight`` times."""

    weight: float = 1.0


@dataclass
class ClassExample:
    """One encoded classification example; ``weight`` is None when the run is unweighted."""

    input_ids: list[int]
    token_type_ids: list[int]
    label: int
    weight: float | None = None


@dataclass
class TaskData:
    """Encoded examples of one task, and the label names of a classification task."""

    task: str
    examples: list[Any]
    label_names: list[str] = field(default_factory=list)


def _text_token_lists(tokenizer: Any, records: Sequence[dict]) -> list[list[int]]:
    token_lists = []
    for index, record in enumerate(records):
        text = record.get("text") if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"record {index}: field 'text' must be a non-empty string")
        token_lists.append(list(tokenizer(text, add_special_tokens=False)["input_ids"]))
    return token_lists


def encode_text_records(tokenizer: Any, records: Sequence[dict], max_length: int,
                        packing: bool,
                        weights: Sequence[float] | None = None) -> list[EncodedExample]:
    """Plain texts → causal examples with a loss on every token.

    Args:
        weights: one weight per record (not with packing, which mixes records).

    Raises:
        ValueError: naming the record when ``text`` is missing, or when nothing is left.
    """
    token_lists = _text_token_lists(tokenizer, records)
    if packing:
        if weights is not None:
            raise ValueError("per-record weights do not apply to packed texts")
        stream: list[int] = []
        for ids in token_lists:
            stream += ids + [tokenizer.eos_token_id]
        chunks = [stream[at:at + max_length] for at in range(0, len(stream), max_length)]
        examples = [EncodedExample(list(ids), list(ids)) for ids in chunks if len(ids) >= 2]
    else:
        examples = [_weighted(ids[:max_length], ids[:max_length], weights, index)
                    for index, ids in enumerate(token_lists)]
        examples = [example for example in examples if len(example.input_ids) >= 2]
    if not examples:
        raise ValueError(f"none of the {len(records)} texts has two tokens or more")
    return _renormalised(examples) if weights is not None else examples


def _weighted(input_ids: list[int], labels: list[int], weights: Sequence[float] | None,
              index: int) -> EncodedExample:
    if weights is None:
        return EncodedExample(list(input_ids), list(labels))
    return WeightedExample(list(input_ids), list(labels), float(weights[index]))


def _renormalised(examples: list) -> list:
    """Weights back to mean 1 after examples were dropped (no answer token left, too short)."""
    mean = sum(example.weight for example in examples) / len(examples)
    for example in examples:
        example.weight /= mean
    return examples


def encode_instruction_records(tokenizer: Any, records: Sequence[dict], max_length: int,
                               weights: Sequence[float] | None = None) -> list[EncodedExample]:
    """Chat records → examples (see :func:`engine.train.format.encode_records`), weighted.

    Raises:
        ValueError: on a malformed record (named by its index) or when nothing is left.
    """
    if weights is None:
        return encode_records(tokenizer, records, max_length)
    encoded = [encode_record(tokenizer, record, max_length, where=f"record {index}")
               for index, record in enumerate(records)]
    kept = [_weighted(example.input_ids, example.labels, weights, index)
            for index, example in enumerate(encoded) if example.trained_tokens]
    if not kept:
        raise ValueError(f"none of the {len(records)} records has a response token within "
                         f"max_length={max_length}")
    return _renormalised(kept)


def _check_class_record(record: dict, index: int) -> None:
    if not isinstance(record.get("text"), str):
        raise ValueError(f"record {index}: field 'text' must be a string")
    if "text_pair" in record and not isinstance(record["text_pair"], str):
        raise ValueError(f"record {index}: field 'text_pair' must be a string")
    if not isinstance(record.get("label"), (str, int)) or isinstance(record["label"], bool):
        raise ValueError(f"record {index}: field 'label' must be a string or integer")


def encode_class_records(tokenizer: Any, records: Sequence[dict], max_length: int,
                         label_names: list[str] | None = None,
                         weights: Sequence[float] | None = None) -> TaskData:
    """Texts (or text pairs) with labels → classification examples.

    Args:
        label_names: fixed label order (e.g. from an earlier run); by default the sorted
            distinct labels of ``records``.
        weights: one loss weight per record, or None for an unweighted run.

    Raises:
        ValueError: naming the record and field when a text or label is missing or unknown.
    """
    for index, record in enumerate(records):
        _check_class_record(record, index)
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
        weight = None if weights is None else float(weights[index])
        examples.append(ClassExample(list(encoded["input_ids"]), list(types),
                                     index_of[str(record["label"])], weight))
    return TaskData("classification", examples, names)


def encode_task(task: str, tokenizer: Any, records: Sequence[dict], max_length: int,
                packing: bool = False, label_names: list[str] | None = None,
                weights: Sequence[float] | None = None) -> TaskData:
    """Encode records for ``task`` (instruction, text or classification).

    Args:
        weights: one loss weight per record (mean 1), or None for an unweighted run.
    """
    if weights is not None and len(weights) != len(records):
        raise ValueError(f"{len(weights)} weights for {len(records)} records")
    if task == "instruction":
        return TaskData(task, encode_instruction_records(tokenizer, records, max_length,
                                                         weights))
    if task == "text":
        return TaskData(task, encode_text_records(tokenizer, records, max_length, packing,
                                                  weights))
    if task == "classification":
        return encode_class_records(tokenizer, records, max_length, label_names, weights)
    raise ValueError(f"unknown task {task!r}")


def collate_task(task: str, batch: Sequence[Any], pad_id: int) -> dict[str, Any]:
    """Pad one micro-batch into tensors for ``task``; ``weights`` when the examples carry one."""
    import torch

    tensors = collate(batch, pad_id) if task != "classification" \
        else _collate_class(batch, pad_id)
    if getattr(batch[0], "weight", None) is not None:
        tensors["weights"] = torch.tensor([example.weight for example in batch],
                                          dtype=torch.float32)
    return tensors


def _collate_class(batch: Sequence[ClassExample], pad_id: int) -> dict[str, Any]:
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
    """Forward one micro-batch (already on the device); the summed loss as a tensor.

    With ``batch["weights"]`` (one per example) each example's loss counts that many times.
    """
    if task == "classification":
        inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        if takes_token_types(model):
            inputs["token_type_ids"] = batch["token_type_ids"]
        logits = model(**inputs).logits
        return summed_cross_entropy(logits, batch["labels"], batch.get("weights"))
    return causal_summed_loss(model, batch)


def takes_token_types(model: Any) -> bool:
    """Whether the (peft- or DDP-wrapped) model's forward takes ``token_type_ids``
    (BERT, DeBERTa do; ModernBERT, DistilBERT do not)."""
    inner = getattr(model, "module", model)
    inner = inner.get_base_model() if hasattr(inner, "get_base_model") else inner
    return _forward_takes(type(inner), "token_type_ids")


@functools.lru_cache(maxsize=None)
def _forward_takes(model_class: type, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(model_class.forward).parameters
    except (TypeError, ValueError):
        return True
