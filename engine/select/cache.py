"""Embeddings through the workspace cache: only texts never seen are embedded.

A vector is cached per (sha256 of the embedded text, model id) in the
``embeddings`` table as float16. Identical texts inside one call are embedded
once. The cache is shared by all projects of a workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from engine.models.device import cpu_dtype
from engine.models.encoder import embed_texts
from engine.progress import Reporter, null_reporter
from engine.store import embeddings as embedding_store
from engine.store.embeddings import record_text, text_hash

__all__ = ["EmbeddingResult", "embed_cached", "model_id", "record_text", "text_hash"]

MINILM_ID = "all-MiniLM-L6-v2"
LLM_PREFIX = "llm:"


@dataclass(frozen=True)
class EmbeddingResult:
    """Vectors of a list of texts and how they were obtained.

    Attributes:
        vectors: float32 array ``(n, dim)``, rows L2-normalised, in input order.
        model: the model id used as cache key.
        embedded: texts embedded now (unique, not found in the cache).
        cached: texts served from the cache (unique).
    """

    vectors: np.ndarray
    model: str
    embedded: int
    cached: int


def model_id(embedding: str = "minilm", llm_folder: Path | None = None,
             precision: str = "float32") -> str:
    """Cache key of an embedding model: ``minilm`` or ``llm`` (mean-pooled hidden states);
    MiniLM in bfloat16 or int8 has its own key (``all-MiniLM-L6-v2:bf16``, ``…:int8``)."""
    if embedding == "minilm":
        suffix = {"float32": "", "bfloat16": ":bf16", "int8": ":int8"}[precision]
        return MINILM_ID + suffix
    if embedding == "llm":
        if llm_folder is None:
            raise ValueError("embedding 'llm' needs the base model folder")
        return f"{LLM_PREFIX}{Path(llm_folder).name}:mean"
    raise ValueError(f"unknown embedding {embedding!r}; expected 'minilm' or 'llm'")


def _compute(texts: list[str], embedding: str, llm_folder: Path | None, batch_size: int,
             reporter: Reporter, precision: str) -> np.ndarray:
    if embedding == "llm":
        from engine.select.embed_llm import embed_with_llm

        return embed_with_llm(texts, Path(llm_folder), batch_size=batch_size, reporter=reporter)

    return embed_texts(texts, batch_size=batch_size, reporter=reporter, precision=precision)


def embed_cached(db: sqlite_utils.Database, texts: list[str], *, embedding: str = "minilm",
                 llm_folder: Path | None = None, batch_size: int = 64,
                 reporter: Reporter | None = None,
                 precision: str = "float32") -> EmbeddingResult:
    """Embed texts, reusing and filling the workspace cache.

    Args:
        db: the workspace store.
        texts: texts in the order the result's rows follow.
        embedding: ``"minilm"`` (bundled MiniLM, default) or ``"llm"``.
        llm_folder: the causal LM folder when ``embedding == "llm"``.
        batch_size: texts per forward pass.
        reporter: progress per batch of the texts still to embed; cancel between batches.
        precision: MiniLM in ``"float32"`` (default), ``"bfloat16"`` (faster on
            CPUs with native bfloat16; float32 is used, and cached as such, on others)
            or ``"int8"`` (ONNX Runtime, faster on any CPU); each cached under its own
            model id.

    Returns:
        An :class:`EmbeddingResult`.

    Raises:
        ValueError: for an unknown embedding.
        Cancelled: if cancel was asked for; vectors finished so far are not kept.
    """
    reporter = reporter or null_reporter()
    precision = cpu_dtype(precision)
    model = model_id(embedding, llm_folder, precision)
    hashes = [text_hash(t) for t in texts]
    found = embedding_store.lookup(db, hashes, model)
    missing = {h: t for h, t in zip(hashes, texts) if h not in found}
    if missing:
        new_hashes = list(missing)
        vectors = _compute([missing[h] for h in new_hashes], embedding, llm_folder,
                           batch_size, reporter, precision)
        embedding_store.store(db, new_hashes, model, vectors)
        found.update(zip(new_hashes, vectors.astype(np.float16).astype(np.float32)))
    reporter.report(1, 1, f"{len(missing)} embedded, {len(found) - len(missing)} from the cache")
    dim = next(iter(found.values())).shape[0] if found else 384
    matrix = np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, dim), np.float32)
    return EmbeddingResult(matrix.astype(np.float32), model, len(missing),
                           len(found) - len(missing))
