"""The embedding cache: one float16 vector per (text hash, model).

Vectors are keyed by the sha256 of the exact text that was embedded and by a
model id (``all-MiniLM-L6-v2``, or ``llm:<folder name>:mean`` for a causal
LM's hidden states), so a second selection over the same records, in any
project, embeds nothing. Stored as float16 blobs: 768 bytes per MiniLM row.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import sqlite_utils

from engine.store.transactions import transaction

TABLE = "embeddings"
_CHUNK = 500  # SQLite host parameters per query stay well under the limit


def lookup(db: sqlite_utils.Database, hashes: Sequence[str], model: str) -> dict[str, np.ndarray]:
    """Cached vectors of some text hashes.

    Args:
        db: the workspace store.
        hashes: text hashes to look up (duplicates allowed).
        model: the model id the vectors were made with.

    Returns:
        ``{hash: float32 vector}`` for the hashes found; missing ones are absent.
    """
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(f"SELECT content_hash, dim, vector FROM {TABLE} WHERE model = ? "
                          f"AND content_hash IN ({marks})", [model, *chunk]).fetchall()
        for content_hash, dim, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float16)
            if vector.size == dim:
                found[content_hash] = vector.astype(np.float32)
    return found


def store(db: sqlite_utils.Database, hashes: Sequence[str], model: str,
          vectors: np.ndarray) -> int:
    """Add vectors to the cache (existing rows are replaced), in one transaction.

    Returns:
        The number of rows written.

    Raises:
        ValueError: if ``hashes`` and ``vectors`` differ in length.
    """
    vectors = np.asarray(vectors)
    if len(hashes) != len(vectors):
        raise ValueError(f"{len(hashes)} hashes but {len(vectors)} vectors")
    half = vectors.astype(np.float16)
    rows = [(h, model, int(half.shape[1]), half[i].tobytes()) for i, h in enumerate(hashes)]
    with transaction(db):
        db.conn.executemany(f"INSERT OR REPLACE INTO {TABLE} (content_hash, model, dim, vector) "
                            "VALUES (?, ?, ?, ?)", rows)
    return len(rows)


def count(db: sqlite_utils.Database, model: str | None = None) -> int:
    """Rows in the cache, of one model or of all."""
    if model is None:
        return db.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0]
    return db.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE model = ?", [model]).fetchone()[0]


def forget(db: sqlite_utils.Database, model: str | None = None) -> int:
    """Drop cached vectors (of one model, or all); returns how many were dropped."""
    with transaction(db):
        if model is None:
            cursor = db.execute(f"DELETE FROM {TABLE}")
        else:
            cursor = db.execute(f"DELETE FROM {TABLE} WHERE model = ?", [model])
    return cursor.rowcount
