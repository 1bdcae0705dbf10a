"""Batched, deterministic (greedy) generation of answers to instruction prompts.

Prompts are rendered with the model's chat template (as in training), sorted by length so
batches pad little, left-padded, and decoded greedily; answers come back in input order.
"""

from __future__ import annotations

from typing import Any, Sequence

from engine.progress import Reporter, null_reporter
from engine.train.format import record_messages


def prompt_messages(record: dict, where: str = "record") -> list[dict[str, str]]:
    """The conversation up to (not including) the last assistant turn of a record.

    Raises:
        ValueError: on a malformed record.
    """
    messages = record_messages(record, where)
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    return messages[:last]


def reference_answer(record: dict, where: str = "record") -> str:
    """The last assistant turn of a record: what a good answer looks like."""
    messages = record_messages(record, where)
    return [m for m in messages if m["role"] == "assistant"][-1]["content"]


def _prompt_ids(tokenizer: Any, records: Sequence[dict], max_prompt: int) -> list[list[int]]:
    ids = []
    for index, record in enumerate(records):
        text = tokenizer.apply_chat_template(prompt_messages(record, f"record {index}"),
                                             tokenize=False, add_generation_prompt=True)
        ids.append(list(tokenizer(text, add_special_tokens=False)["input_ids"])[-max_prompt:])
    return ids


def _left_pad(batch: list[list[int]], pad_id: int) -> tuple[Any, Any]:
    import torch

    width = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, ids in enumerate(batch):
        input_ids[row, width - len(ids):] = torch.tensor(ids, dtype=torch.long)
        mask[row, width - len(ids):] = 1
    return input_ids, mask


def generate_answers(model: Any, tokenizer: Any, records: Sequence[dict], *,
                     max_new_tokens: int = 64, batch_size: int = 8, max_prompt: int = 512,
                     reporter: Reporter | None = None) -> list[str]:
    """Greedy answers of ``model`` to the prompts of ``records``, in input order.

    Args:
        model: a loaded causal LM (plain, peft-wrapped or quantized).
        tokenizer: its tokenizer, with a chat template.
        records: instruction records; their last answer is left out of the prompt.
        max_new_tokens: tokens generated at most per answer.
        batch_size: prompts per ``generate`` call (1 gives the one-at-a-time baseline).
        max_prompt: prompt tokens kept (the start is cut).
        reporter: one event per batch; cancel checked per batch.

    Returns:
        The decoded answers, stripped.

    Raises:
        ValueError: on malformed records or ``batch_size < 1``.
        Cancelled: when the reporter's stop flag is raised.
    """
    import torch

    reporter = reporter or null_reporter()
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    prompts = _prompt_ids(tokenizer, records, max_prompt)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    device = model.get_input_embeddings().weight.device
    answers: list[str] = [""] * len(prompts)
    batches = [order[at:at + batch_size] for at in range(0, len(order), batch_size)]
    model.eval()
    with torch.inference_mode():
        for number, batch in enumerate(batches, start=1):
            reporter.check_cancel()
            input_ids, mask = _left_pad([prompts[i] for i in batch], pad_id)
            output = model.generate(input_ids=input_ids.to(device),
                                    attention_mask=mask.to(device), do_sample=False,
                                    max_new_tokens=max_new_tokens, pad_token_id=pad_id)
            for row, index in enumerate(batch):
                new_tokens = output[row, input_ids.shape[1]:]
                answers[index] = tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
            reporter.report(number, len(batches), f"generated {number}/{len(batches)}")
    return answers
