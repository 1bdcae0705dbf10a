"""Perplexity on the assistant answers of instruction records.

Records are encoded exactly as for training (:func:`engine.train.format.encode_record`), so a
base model and the same model with a tuned adapter are scored on the same tokens. The score is
token-weighted: ``mean_nll`` is the summed negative log-likelihood of every answer token
divided by their count, and ``ppl = exp(mean_nll)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.progress import Reporter, null_reporter
from engine.train.format import collate, encode_records, token_nll


@dataclass
class PerplexityResult:
    """Perplexity over the answer tokens of a set of records."""

    ppl: float
    mean_nll: float
    tokens: int


def perplexity(model: Any, tokenizer: Any, records: list[dict], *, max_length: int = 256,
               batch_size: int = 8, reporter: Reporter | None = None) -> PerplexityResult:
    """Score a causal LM on the assistant answers of ``records``.

    Args:
        model: a loaded causal LM (plain, peft-wrapped or bitsandbytes-quantized); it is
            only called forward, never cast or moved.
        tokenizer: the model's tokenizer, with a chat template.
        records: ``{"prompt", "response"}`` or ``{"messages": [...]}`` dicts.
        max_length: tokens kept per record, as in training.
        batch_size: records per forward pass.
        reporter: receives one event per batch; its cancel flag is checked per batch.

    Returns:
        Perplexity, mean negative log-likelihood per answer token and the token count.

    Raises:
        ValueError: on malformed records or when no answer token is left to score.
        Cancelled: when the reporter's stop flag is raised.
    """
    import torch

    reporter = reporter or null_reporter()
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    examples = sorted(encode_records(tokenizer, records, max_length),
                      key=lambda example: len(example.input_ids))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    device = model.get_input_embeddings().weight.device
    batches = [examples[at:at + batch_size] for at in range(0, len(examples), batch_size)]
    summed_nll, tokens = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for index, batch in enumerate(batches, start=1):
                reporter.check_cancel()
                inputs = collate(batch, pad_id)
                logits = model(input_ids=inputs["input_ids"].to(device),
                               attention_mask=inputs["attention_mask"].to(device)).logits
                nll, count = token_nll(logits, inputs["labels"])
                summed_nll, tokens = summed_nll + float(nll), tokens + count
                reporter.report(index, len(batches), f"batch {index}/{len(batches)}",
                                mean_nll=summed_nll / max(tokens, 1))
    finally:
        model.train(was_training)
    mean_nll = summed_nll / tokens
    return PerplexityResult(math.exp(mean_nll), mean_nll, tokens)
