"""The embedding cache: one float16 vector per (text hash, model).

Vectors are keyed by the sha256 of the exact text that was embedded and by a
model id (``all-MiniLM-L6-v2``, or ``llm:<folder name>:mean`` for a causal
LM's hidden states), so a second selection over the same records, in any
project, embeds nothing. Stored as float16 blobs: 768 bytes per MiniLM row.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable, Sequence

import numpy as np
import sqlite_utils

from engine.store.transactions import transaction

TABLE = "embeddings"
_CHUNK = 500  # SQLite host parameters per query stay well under the limit


def text_hash(text: str) -> str:
    """sha256 of the exact text (UTF-8), the cache key of its vector."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_text(record: dict, fields: tuple[str, ...] | None = None) -> str:
    """The text of a record that gets embedded: its text fields, one per line.

    Args:
        record: a dataset record.
        fields: fields to join; by default ``prompt`` and ``response`` for
            instruction records, else ``text``.

    Raises:
        ValueError: if the record has none of the fields.
    """
    if fields is None:
        fields = ("prompt", "response") if "prompt" in record else ("text",)
    parts = [str(record[f]) for f in fields if record.get(f) is not None]
    if not parts:
        raise ValueError(f"record has none of the fields {', '.join(fields)} to embed "
                         f"(keys: {', '.join(sorted(record))})")
    return "\n".join(parts)


def pair_text(record: dict) -> str | None:
    """The text a per-record score of an instruction record is cached under
    (prompt, NUL, response); None for other records."""
    if not isinstance(record.get("prompt"), str) or not isinstance(record.get("response"), str):
        return None
    return record["prompt"] + "\x00" + record["response"]


def record_keys(record: dict) -> set[str]:
    """Every cache key a record can have: its embedded text and its score text."""
    keys = set()
    try:
        keys.add(text_hash(record_text(record)))
    except ValueError:  # a chat record: nothing of it is embedded
        pass
    pair = pair_text(record)
    if pair is not None:
        keys.add(text_hash(pair))
    return keys


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


_PROJECT_DATA = ("SELECT DISTINCT data FROM records WHERE dataset_id IN "
                 "(SELECT id FROM datasets WHERE project_id {} ?)")


def _keys_of(rows: Iterable[tuple[str]]) -> Iterable[set[str]]:
    for (data,) in rows:
        yield record_keys(json.loads(data))


def _present(db: sqlite_utils.Database, keys: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        found.update(h for (h,) in db.execute(
            f"SELECT DISTINCT content_hash FROM {TABLE} WHERE content_hash IN ({marks})", chunk))
    return found


def prune_project(db: sqlite_utils.Database, project_id: int) -> int:
    """Drop the cached rows (every model) of texts that only this project's records have.

    Call it inside the transaction that deletes the project, before its records go:
    a key stays while a record of any other project still maps to it.

    Args:
        db: the workspace store.
        project_id: the project about to be deleted.

    Returns:
        The number of rows dropped.
    """
    own: set[str] = set()
    for keys in _keys_of(db.execute(_PROJECT_DATA.format("="), [project_id])):
        own |= keys
    doomed = _present(db, own) if own else set()
    if not doomed:
        return 0
    for keys in _keys_of(db.execute(_PROJECT_DATA.format("!="), [project_id])):
        doomed -= keys
        if not doomed:
            return 0
    dropped, ordered = 0, sorted(doomed)
    with transaction(db):
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            dropped += db.execute(f"DELETE FROM {TABLE} WHERE content_hash IN ({marks})",
                                  chunk).rowcount
    return dropped
