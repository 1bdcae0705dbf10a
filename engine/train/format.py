"""Instruction records → token ids and labels, through the model's own chat template.

A record is either ``{"prompt": str, "response": str}`` (optionally with ``"system"``) or
``{"messages": [{"role": ..., "content": ...}, ...]}``. The loss falls on the assistant turns
only: every other position carries the label ``-100``. Training and evaluation both encode
with :func:`encode_record`, so a base model and its tuned adapter are scored on the same tokens.

The mask is built by rendering, for each assistant turn, the conversation up to that turn with
``add_generation_prompt=True`` and the conversation including that turn; the tokens between the
two are the turn's answer. Whitespace-only tokens after the end-of-turn token (ChatML's newline)
are left out of the loss. The rendered prefix must tokenize to a prefix of the full
conversation, otherwise the template is not usable for masking and a ``ValueError`` says so.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

IGNORE_INDEX = -100
_ROLES = {"system", "user", "assistant", "tool"}


@dataclass
class EncodedExample:
    """One encoded record: ``input_ids`` and ``labels`` of equal length."""

    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        """How many positions carry a loss."""
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def record_messages(record: dict[str, Any], where: str = "record") -> list[dict[str, str]]:
    """The chat messages of a record, checked.

    Args:
        record: ``{"prompt", "response"[, "system"]}`` or ``{"messages": [...]}``.
        where: names the record in error messages (e.g. ``"train.jsonl line 12"``).

    Returns:
        A list of ``{"role", "content"}`` dicts with at least one assistant turn.

    Raises:
        ValueError: when a field is missing, has the wrong type or no assistant turn exists.
    """
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not messages:
            raise ValueError(f"{where}: field 'messages' must be a non-empty list")
        for index, message in enumerate(messages):
            _check_message(message, f"{where}: messages[{index}]")
        messages = [{"role": m["role"], "content": m["content"]} for m in messages]
    else:
        for key in ("prompt", "response"):
            if not isinstance(record.get(key), str):
                raise ValueError(f"{where}: field '{key}' must be a string")
        messages = [{"role": "user", "content": record["prompt"]},
                    {"role": "assistant", "content": record["response"]}]
        if isinstance(record.get("system"), str) and record["system"]:
            messages.insert(0, {"role": "system", "content": record["system"]})
    if not any(m["role"] == "assistant" for m in messages):
        raise ValueError(f"{where}: no assistant turn to learn from")
    return messages


def _check_message(message: Any, where: str) -> None:
    if not isinstance(message, dict):
        raise ValueError(f"{where}: must be an object with 'role' and 'content'")
    if message.get("role") not in _ROLES:
        raise ValueError(f"{where}: field 'role' must be one of {sorted(_ROLES)}")
    if not isinstance(message.get("content"), str):
        raise ValueError(f"{where}: field 'content' must be a string")


def _render_ids(tokenizer: Any, messages: list[dict], generation_prompt: bool) -> list[int]:
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _answer_end(tokenizer: Any, ids: list[int], start: int, stop: int) -> int:
    """Drop whitespace-only tokens that the template puts after the end-of-turn token."""
    while stop > start and not tokenizer.decode(ids[start:stop][-1:]).strip():
        stop -= 1
    return stop


def encode_record(tokenizer: Any, record: dict[str, Any], max_length: int = 256,
                  where: str = "record") -> EncodedExample:
    """Encode one record with the tokenizer's chat template; loss on assistant turns only.

    Args:
        tokenizer: a Hugging Face tokenizer with a chat template.
        record: an instruction record (see :func:`record_messages`).
        max_length: keep at most this many tokens (cut at the end).
        where: names the record in error messages.

    Returns:
        The encoded example; it may carry no trained token when the prompt alone fills
        ``max_length``.

    Raises:
        ValueError: on a malformed record or a template whose prefix does not tokenize
            to a prefix of the whole conversation.
    """
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2, got {max_length}")
    messages = record_messages(record, where)
    full_ids = _render_ids(tokenizer, messages, generation_prompt=False)
    labels = [IGNORE_INDEX] * len(full_ids)
    for turn, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prefix = _render_ids(tokenizer, messages[:turn], generation_prompt=True)
        through = _render_ids(tokenizer, messages[: turn + 1], generation_prompt=False)
        if full_ids[: len(prefix)] != prefix or full_ids[: len(through)] != through:
            raise ValueError(f"{where}: the chat template renders turn {turn} differently "
                             "inside the whole conversation; cannot mask the answer")
        stop = _answer_end(tokenizer, full_ids, len(prefix), len(through))
        labels[len(prefix):stop] = full_ids[len(prefix):stop]
    return EncodedExample(full_ids[:max_length], labels[:max_length])


def encode_records(tokenizer: Any, records: Sequence[dict[str, Any]],
                   max_length: int = 256) -> list[EncodedExample]:
    """Encode records, dropping those left with no trained token after truncation.

    Raises:
        ValueError: on a malformed record (named by its index) or when nothing is left.
    """
    examples = [encode_record(tokenizer, record, max_length, where=f"record {index}")
                for index, record in enumerate(records)]
    kept = [example for example in examples if example.trained_tokens]
    if not kept:
        raise ValueError(f"none of the {len(records)} records has a response token within "
                         f"max_length={max_length}")
    return kept


def collate(batch: Sequence[EncodedExample], pad_id: int) -> dict[str, Any]:
    """Pad a batch on the right into ``input_ids``, ``attention_mask`` and ``labels`` tensors."""
    import torch

    width = max(len(example.input_ids) for example in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, example in enumerate(batch):
        size = len(example.input_ids)
        input_ids[row, :size] = torch.tensor(example.input_ids, dtype=torch.long)
        labels[row, :size] = torch.tensor(example.labels, dtype=torch.long)
        attention_mask[row, :size] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def length_sorted_batches(examples: Sequence[EncodedExample], batch_size: int,
                          seed: int, pool_batches: int = 50) -> list[list[EncodedExample]]:
    """Shuffle, then sort by length inside pools of batches, so that batches pad little.

    Args:
        examples: the encoded examples.
        batch_size: examples per batch (the last batch may be smaller).
        seed: same seed, same batches.
        pool_batches: how many batches' worth of examples are sorted together.

    Returns:
        Batches in a shuffled order.
    """
    rng = random.Random(seed)
    order = list(range(len(examples)))
    rng.shuffle(order)
    pool = batch_size * pool_batches
    batches = []
    for begin in range(0, len(order), pool):
        chunk = sorted(order[begin:begin + pool], key=lambda i: len(examples[i].input_ids))
        batches += [[examples[i] for i in chunk[at:at + batch_size]]
                    for at in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def token_nll(logits: Any, labels: Any) -> tuple[Any, int]:
    """Summed next-token negative log-likelihood over labelled positions.

    Args:
        logits: ``(batch, seq, vocab)`` model output.
        labels: ``(batch, seq)`` with ``-100`` where no loss is taken.

    Returns:
        ``(sum_nll, tokens)``: a scalar float32 tensor and the count of scored tokens.
    """
    import torch.nn.functional as functional

    # Shift the labels rather than the logits: no copy of the (batch, seq, vocab) tensor.
    shifted_labels = functional.pad(labels, (0, 1), value=IGNORE_INDEX)[:, 1:]
    shifted_labels = shifted_labels.to(logits.device)
    total = functional.cross_entropy(
        logits.reshape(-1, logits.size(-1)).float(), shifted_labels.reshape(-1),
        ignore_index=IGNORE_INDEX, reduction="sum")
    return total, int((shifted_labels != IGNORE_INDEX).sum())
