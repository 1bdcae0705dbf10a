"""Sentence embeddings with the bundled all-MiniLM-L6-v2 encoder.

The same computation as sentence-transformers (mean pooling over the
attention mask, then L2 normalisation), written against transformers
directly: batches are formed from texts of similar length so little time is
spent on padding, progress is reported per batch, and cancel is honoured
between batches.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from engine.models.device import cpu_dtype
from engine.offline import refuse_remote_code
from engine.progress import Reporter, null_reporter

EMBEDDING_DIM = 384
PRECISIONS = ("float32", "bfloat16", "int8")


@lru_cache(maxsize=1)
def _load_encoder(model_folder: Path, precision: str = "float32") -> tuple[Any, Any]:
    """Tokenizer and model, kept for the next call: a process that embeds in several
    passes (selection after cleaning, the slices of a benchmark) loads them once."""
    from transformers import AutoModel, AutoTokenizer


    kwargs = refuse_remote_code({})
    tokenizer = AutoTokenizer.from_pretrained(str(model_folder), **kwargs)
    model = AutoModel.from_pretrained(str(model_folder), use_safetensors=True, **kwargs)
    model.eval()
    if precision == "bfloat16":
        import torch

        model = model.to(torch.bfloat16)
    return tokenizer, model


def _embed_batch(tokenizer: Any, model: Any, texts: list[str], max_length: int) -> np.ndarray:
    import torch

    encoded = tokenizer(texts, padding=True, truncation=True, max_length=max_length,
                        return_tensors="pt")
    hidden = model(**encoded).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * mask).sum(dim=1)
    pooled = summed / mask.sum(dim=1).clamp(min=1e-9)
    normalised = torch.nn.functional.normalize(pooled, p=2, dim=1)
    return normalised.float().numpy()


def embed_texts(texts: list[str], model_folder: Path | None = None, batch_size: int = 64,
                max_length: int = 256, reporter: Reporter | None = None,
                precision: str = "float32") -> np.ndarray:
    """Embed texts as unit-length vectors.

    Args:
        texts: the texts, in the order the rows of the result follow.
        model_folder: a sentence-transformers/BERT-style folder; the bundled
            all-MiniLM-L6-v2 by default.
        batch_size: texts per forward pass.
        max_length: tokens kept per text (longer texts are truncated).
        reporter: receives one progress event per batch; cancel is checked
            before each batch.
        precision: ``"float32"`` (default, matches sentence-transformers) or
            ``"bfloat16"`` (about 1.5x faster on CPUs with AVX512-BF16/AMX, cosine
            to float32 above 0.99; float32 runs instead on other CPUs, where
            emulated bfloat16 was 5x slower) or ``"int8"`` (ONNX Runtime with int8 weights,
            exported into the models folder at first use, see
            :mod:`engine.models.onnx_encoder`; faster on any CPU, cosine to float32
            above 0.99).

    Returns:
        A float32 array of shape ``(len(texts), dim)`` (dim 384 for MiniLM),
        each row L2-normalised.

    Raises:
        ValueError: if ``batch_size`` or ``max_length`` is not positive, a text is
            not a string, or int8 is asked for without onnxruntime installed.
        Cancelled: if the reporter's stop flag is raised.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if batch_size < 1 or max_length < 1:
        raise ValueError(f"batch_size and max_length must be positive "
                         f"(got {batch_size}, {max_length})")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"text {index} is {type(text).__name__}, expected str")
    reporter = reporter or null_reporter()
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    if model_folder is None:
        from engine.models.bundled import minilm_folder

        model_folder = minilm_folder()
    return _embed_sorted(list(texts), Path(model_folder), batch_size, max_length, reporter,
                         cpu_dtype(precision))


def _batch_function(model_folder: Path, precision: str):
    """``embed(texts, max_length) -> vectors`` for the precision."""
    if precision == "int8":
        from engine.models.onnx_encoder import load_int8

        return load_int8(model_folder).embed
    tokenizer, model = _load_encoder(model_folder, precision)
    return lambda batch, max_length: _embed_batch(tokenizer, model, batch, max_length)


def _embed_sorted(texts: list[str], model_folder: Path, batch_size: int, max_length: int,
                  reporter: Reporter, precision: str = "float32") -> np.ndarray:
    import torch

    embed = _batch_function(model_folder, precision)
    order = np.argsort([-len(text) for text in texts], kind="stable")
    result: np.ndarray | None = None
    total = len(texts)
    with torch.inference_mode():
        for start in range(0, total, batch_size):
            reporter.check_cancel()
            rows = order[start:start + batch_size]
            vectors = embed([texts[i] for i in rows], max_length)
            if result is None:
                result = np.empty((total, vectors.shape[1]), dtype=np.float32)
            result[rows] = vectors.astype(np.float32)
            done = min(start + batch_size, total)
            reporter.report(done, total, f"Embedded {done}/{total} texts")
    assert result is not None
    return result
