"""Duplicate groups of a stored version, for the held-out split, in memory that stays small.

The same groups as :func:`engine.data.dedup.duplicate_groups` (exact duplicates by content
hash, near duplicates by MinHash-LSH, the earlier record's group joined), worked out a
batch of records at a time: the first record of each content hash is looked up in the
``records`` table's hash index, and the LSH buckets and signatures of the records seen so
far live in temporary tables of the store's connection (private to it, so no write lock
on the workspace is taken). What stays in memory per record is one 4-byte group pointer
and a 4-byte label code.
"""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from array import array
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import sqlite_utils

from engine.data.dedup import MinHasher
from engine.data.text_fix import record_text

_WORD = re.compile(r"\w+")
_PRIME = np.uint64((1 << 61) - 1)
_MAX = np.uint64(0xFFFFFFFF)
SHINGLES_PER_CHUNK = 40_000  # bounds the (shingles x permutations) matrix: ~20 MB


@dataclass
class Groups:
    """Group and label of every record of a version.

    Attributes:
        roots: For each position, the position of the first record of its group.
        codes: For each position, the index in ``names`` of its label (None: no labels).
        names: The labels as text (``str`` of the stored value).
    """

    roots: np.ndarray
    codes: np.ndarray | None
    names: list[str]


def shingle_hashes(text: str) -> list[int]:
    """CRC-32 hashes of a text's casefolded word 3-grams, as :func:`engine.data.dedup.
    shingle_hashes` gives them (the text itself when it has fewer than three words)."""
    words = _WORD.findall(text.casefold())
    if len(words) < 3:
        grams = {" ".join(words)} if words else {""}
    else:
        grams = set(map(" ".join, zip(words, words[1:], words[2:])))
    return list(map(zlib.crc32, map(str.encode, grams)))


def signatures(texts: Sequence[str], hasher: MinHasher) -> np.ndarray:
    """MinHash signatures of many texts at once (uint32, one row per text), equal to
    ``hasher.signature`` of each."""
    out = np.empty((len(texts), hasher.num_perm), dtype=np.uint32)
    start = 0
    while start < len(texts):
        hashes, offsets, end = [], [], start
        while end < len(texts) and (end == start or len(hashes) < SHINGLES_PER_CHUNK):
            offsets.append(len(hashes))
            hashes += shingle_hashes(texts[end])
            end += 1
        values = np.multiply.outer(np.array(hashes, dtype=np.uint64), hasher._a)
        values += hasher._b  # in place: (h * a + b) % prime & max, as MinHasher does
        np.remainder(values, _PRIME, out=values)
        values &= _MAX
        out[start:end] = np.minimum.reduceat(values, offsets, axis=0)
        start = end
    return out


@contextlib.contextmanager
def _temp_writes(conn) -> Iterator[None]:
    """One deferred transaction around writes to temporary tables: it locks only the
    connection's private temporary database, never the workspace."""
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class _Lsh:
    """LSH buckets and signatures of the records indexed so far, in temporary tables."""

    def __init__(self, db: sqlite_utils.Database, threshold: float, num_perm: int,
                 seed: int) -> None:
        from datasketch.lsh import _optimal_param

        self.db, self.threshold, self.count = db, threshold, 0
        self.hasher = MinHasher(num_perm, seed)
        self.bands, self.rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
        self.drop()
        for sql in ("CREATE TEMP TABLE split_lsh (band INTEGER, key BLOB, idx INTEGER)",
                    "CREATE INDEX temp.split_lsh_key ON split_lsh (band, key)",
                    "CREATE TEMP TABLE split_sig (idx INTEGER PRIMARY KEY, position INTEGER, "
                    "sig BLOB)",
                    "CREATE TEMP TABLE split_probe (idx INTEGER, band INTEGER, key BLOB)"):
            db.execute(sql)

    def drop(self) -> None:
        for table in ("split_lsh", "split_sig", "split_probe"):
            self.db.execute(f"DROP TABLE IF EXISTS temp.{table}")

    def keys(self, sigs: np.ndarray) -> list[list[bytes]]:
        """The band keys of each signature."""
        bands = [np.ascontiguousarray(sigs[:, b * self.rows:(b + 1) * self.rows])
                 for b in range(self.bands)]
        return [[band[i].tobytes() for band in bands] for i in range(len(sigs))]

    def earlier(self, keys: list[list[bytes]]) -> dict[int, list[tuple[int, int, int, bytes]]]:
        """Per new record (0-based within the batch): (band, idx, position, signature) of
        the records of earlier batches that share a bucket, by band then idx."""
        conn = self.db.conn
        with _temp_writes(conn):
            conn.execute("DELETE FROM temp.split_probe")
            conn.executemany("INSERT INTO temp.split_probe VALUES (?, ?, ?)",
                             [(i, b, key) for i, row in enumerate(keys)
                              for b, key in enumerate(row)])
        found: dict[int, list] = {}
        for i, band, idx, position, sig in conn.execute(
                "SELECT p.idx, l.band, l.idx, s.position, s.sig FROM temp.split_probe p "
                "JOIN temp.split_lsh l ON l.band = p.band AND l.key = p.key "
                "JOIN temp.split_sig s ON s.idx = l.idx ORDER BY p.idx, l.band, l.idx"):
            found.setdefault(i, []).append((band, idx, position, sig))
        return found

    def add(self, keys: list[list[bytes]], sigs: np.ndarray, positions: list[int]) -> None:
        conn, base = self.db.conn, self.count
        with _temp_writes(conn):
            conn.executemany("INSERT INTO temp.split_lsh VALUES (?, ?, ?)",
                             [(b, key, base + i) for i, row in enumerate(keys)
                              for b, key in enumerate(row)])
            conn.executemany("INSERT INTO temp.split_sig VALUES (?, ?, ?)",
                             [(base + i, p, sigs[i].tobytes()) for i, p in enumerate(positions)])
        self.count += len(positions)


class _Grouper:
    """Union of each record with the group of its earlier exact or near duplicate."""

    def __init__(self, db: sqlite_utils.Database, dataset_id: int, count: int,
                 threshold: float, num_perm: int, seed: int) -> None:
        self.db, self.dataset_id = db, dataset_id
        self.parent = array("i", np.arange(count, dtype=np.int32).tobytes())
        self.lsh = _Lsh(db, threshold, num_perm, seed)

    def root(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def batch(self, positions: list[int], hashes: list[str], texts: list[str]) -> None:
        """Group a batch of consecutive records (the first at ``positions[0]``)."""
        earlier = dict(self.db.execute(
            "SELECT content_hash, MIN(position) FROM records WHERE +dataset_id = ? AND "
            "+position < ? AND content_hash IN (SELECT value FROM json_each(?)) "
            "GROUP BY content_hash",
            [self.dataset_id, positions[0], json.dumps(sorted(set(hashes)))]).fetchall())
        new, first = [], {}
        for position, digest, text in zip(positions, hashes, texts):
            seen = earlier.get(digest, first.get(digest))
            if seen is not None:
                self.parent[position] = self.root(seen)
                continue
            first[digest] = position
            new.append((position, text))
        if new:
            self._near([p for p, _ in new], [t for _, t in new])

    def _near(self, positions: list[int], texts: list[str]) -> None:
        lsh = self.lsh
        sigs = signatures(texts, lsh.hasher)
        keys, base = lsh.keys(sigs), lsh.count
        found = lsh.earlier(keys)
        local: list[dict[bytes, list[int]]] = [{} for _ in range(lsh.bands)]
        stored: dict[int, tuple[int, np.ndarray]] = {}
        for j, sig in enumerate(sigs):
            by_band: list[list[int]] = [[] for _ in range(lsh.bands)]
            for band, idx, position, blob in found.get(j, ()):
                by_band[band].append(idx)
                stored.setdefault(idx, (position, np.frombuffer(blob, dtype=np.uint32)))
            candidates: set[int] = set()
            for band in range(lsh.bands):  # the order NearDuplicateIndex.query fills its set
                candidates.update(by_band[band])
                candidates.update(local[band].get(keys[j][band], ()))
            best, best_score = None, 0.0
            for idx in candidates:
                other = stored[idx][1] if idx < base else sigs[idx - base]
                score = float(np.mean(other == sig))
                if score >= lsh.threshold and score > best_score:
                    best, best_score = idx, score
            if best is not None:
                match = stored[best][0] if best < base else positions[best - base]
                self.parent[positions[j]] = self.root(match)
            for band in range(lsh.bands):
                local[band].setdefault(keys[j][band], []).append(base + j)
        lsh.add(keys, sigs, positions)

    def roots(self) -> np.ndarray:
        """The first position of each record's group."""
        roots = np.frombuffer(self.parent, dtype=np.int32).copy()
        while True:
            jumped = roots[roots]
            if np.array_equal(jumped, roots):
                return roots
            roots = jumped


def stored_groups(db: sqlite_utils.Database, dataset_id: int, count: int, *,
                  labelled: bool, progress: Callable[[int], None] | None = None,
                  batch: int = 5000, threshold: float = 0.8, num_perm: int = 64,
                  seed: int = 0) -> Groups:
    """Duplicate groups (and labels) of a stored version's records.

    Args:
        db: The store.
        dataset_id: The version; its positions run from 0 to ``count - 1``.
        count: Its number of records.
        labelled: Read each record's ``label`` (for a split stratified by label).
        progress: Called with the position reached before each batch (it may raise to
            cancel).
        batch: Records read and grouped at a time.
        threshold, num_perm, seed: As :func:`engine.data.dedup.duplicate_groups`.

    Returns:
        The groups :func:`engine.data.dedup.duplicate_groups` gives for the records'
        ``(content hash, record_text)``, and the labels.
    """
    grouper = _Grouper(db, dataset_id, count, threshold, num_perm, seed)
    codes, names = array("i"), {}
    try:
        for start in range(0, count, batch):
            if progress is not None:
                progress(start)
            rows = db.execute(
                "SELECT position, data, content_hash, json_extract(data, '$.label') FROM records "
                "WHERE dataset_id = ? AND position >= ? AND position < ? ORDER BY position",
                [dataset_id, start, start + batch]).fetchall()
            if labelled:
                codes.extend(names.setdefault(str(row[3]), len(names)) for row in rows)
            grouper.batch([row[0] for row in rows], [row[2] for row in rows],
                          [record_text(json.loads(row[1])) for row in rows])
        roots = grouper.roots()
    finally:
        grouper.lsh.drop()
    return Groups(roots, np.frombuffer(codes, dtype=np.int32) if labelled else None, list(names))
