"""Sentence vectors from a causal LM's own last hidden states (mean-pooled, L2).

Selecting with the model that will be trained sees the data as that model
does. Slower than MiniLM: use it on small sets or with a GPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.models.loading import load_causal_lm, load_tokenizer
from engine.progress import Reporter, null_reporter


def embed_with_llm(texts: list[str], folder: Path, *, batch_size: int = 16,
                   max_length: int = 256, reporter: Reporter | None = None) -> np.ndarray:
    """Mean-pooled, L2-normalised last hidden states of a causal LM.

    Args:
        texts: texts to embed.
        folder: a local causal LM folder (loaded with
            :func:`engine.models.loading.load_causal_lm`).
        batch_size: texts per forward pass (sorted by length).
        max_length: tokens kept per text.
        reporter: progress per batch; cancel between batches.

    Returns:
        float32 array ``(len(texts), hidden_size)``.

    Raises:
        ModelRefused: if the folder is not a safe model folder.
        Cancelled: if cancel was asked for.
    """
    import torch


    reporter = reporter or null_reporter()
    tokenizer = load_tokenizer(folder)
    tokenizer.padding_side = "right"
    model = load_causal_lm(folder)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    result = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            reporter.check_cancel()
            rows = order[start:start + batch_size]
            encoded = tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                max_length=max_length, return_tensors="pt")
            hidden = model(**encoded, output_hidden_states=True).hidden_states[-1]
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            result[rows] = torch.nn.functional.normalize(pooled.float(), dim=1).numpy()
            done = min(start + batch_size, len(texts))
            reporter.report(done, len(texts), f"Embedded {done}/{len(texts)} texts")
    return result
