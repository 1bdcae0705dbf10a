"""Summed training losses: next-token loss at the labelled positions only, optionally weighted.

A causal LM gets a boolean ``(batch, seq)`` ``logits_to_keep`` mask of the positions whose
next token carries a label (the answer tokens of an instruction record), so the prompt's
``(tokens, vocab)`` logits are never computed, forward or backward: with a 49k-token vocabulary
that projection is a fifth of a small model's work and its largest activation. The sum equals
the plain full-logits loss up to float rounding. Models whose forward does not take such a
mask return full logits, and the labelled rows are picked from them.

With per-example weights each example's token losses count that many times; without, the
plain sum is taken (an unweighted run is unchanged by the weighting code).
"""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Any

from engine.train.format import IGNORE_INDEX


def causal_summed_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Summed next-token loss of a causal LM, projecting only the labelled positions.

    Args:
        model: a causal LM, plain or peft-wrapped, float or quantized.
        batch: ``input_ids``, ``attention_mask``, ``labels`` (``-100`` where no loss is
            taken) and optionally ``weights`` (one per row).

    Returns:
        A scalar float32 tensor: the (weighted) sum of the token losses.
    """
    import torch.nn.functional as functional

    # Position t predicts token t + 1: shift the labels rather than the logits.
    targets = functional.pad(batch["labels"], (0, 1), value=IGNORE_INDEX)[:, 1:]
    scored = targets != IGNORE_INDEX
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
              "use_cache": False}
    if keeps_position_mask(model):
        logits = model(**inputs, logits_to_keep=scored).logits
    else:
        logits = model(**inputs).logits
    if logits.dim() == 3:  # full (batch, seq, vocab) logits: pick the labelled rows
        logits = logits[scored]
    weights = batch.get("weights")
    if weights is not None:
        weights = weights[:, None].expand_as(scored)[scored]
    return summed_cross_entropy(logits, targets[scored], weights)


def summed_cross_entropy(logits: Any, targets: Any, weights: Any = None) -> Any:
    """Summed cross-entropy of ``(n, classes)`` logits; each row times its weight if given."""
    import torch.nn.functional as functional

    if weights is None:
        return functional.cross_entropy(logits.float(), targets, reduction="sum")
    losses = functional.cross_entropy(logits.float(), targets, reduction="none")
    return (losses * weights.to(losses.dtype)).sum()


def keeps_position_mask(model: Any) -> bool:
    """Whether the model's forward takes a boolean ``(batch, seq)`` ``logits_to_keep`` mask.

    True for the transformers causal LMs that slice their hidden states with
    ``slice_logits_to_keep`` (Llama, Mistral, Qwen, Gemma, GPT-2, ...), also under peft.
    """
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return _class_keeps_position_mask(type(inner))


@functools.lru_cache(maxsize=None)
def _class_keeps_position_mask(model_class: type) -> bool:
    try:
        parameters = inspect.signature(model_class.forward).parameters
    except (TypeError, ValueError):
        return False
    module = sys.modules.get(model_class.__module__)
    return "logits_to_keep" in parameters and hasattr(module, "slice_logits_to_keep")
