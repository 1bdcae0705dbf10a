"""Near-duplicate search: MinHash signatures over word 3-grams, banded LSH index.

Signatures are computed with numpy for a whole record at once (one
universal hash per permutation over CRC-32 shingle hashes); the band layout
that minimises false positives and negatives at the threshold comes from
datasketch. Memory: ``num_perm`` × 4 bytes per indexed record plus the bands.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from typing import Iterable

import numpy as np

_PRIME = np.uint64((1 << 61) - 1)
_MAX = np.uint64(0xFFFFFFFF)
_WORD = re.compile(r"\w+")


def shingle_hashes(text: str, size: int = 3) -> np.ndarray:
    """CRC-32 hashes of the word n-grams of a text (casefolded); the text itself when short."""
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        words = [" ".join(words)] if words else [""]
        size = 1
    grams = {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}
    return np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64, count=len(grams))


class MinHasher:
    """MinHash signatures of texts (uint32 × ``num_perm``), the same for the same seed."""

    def __init__(self, num_perm: int = 64, seed: int = 0) -> None:
        rng = np.random.RandomState(seed)
        self.num_perm = num_perm
        self._a = rng.randint(1, 1 << 31, size=num_perm).astype(np.uint64)
        self._b = rng.randint(0, 1 << 31, size=num_perm).astype(np.uint64)

    def signature(self, text: str) -> np.ndarray:
        """The signature of a text's word 3-grams."""
        hashes = shingle_hashes(text)
        values = (hashes[:, None] * self._a[None, :] + self._b[None, :]) % _PRIME & _MAX
        return values.min(axis=0).astype(np.uint32)


class NearDuplicateIndex:
    """Finds, for each new text, an earlier indexed text that is a near duplicate.

    Args:
        threshold: Estimated Jaccard similarity at or above which texts are near duplicates.
        num_perm: Signature length.
        seed: Seed of the hash permutations.
    """

    def __init__(self, threshold: float = 0.8, num_perm: int = 64, seed: int = 0) -> None:
        from datasketch.lsh import _optimal_param

        self.threshold, self.num_perm = threshold, num_perm
        self.hasher = MinHasher(num_perm, seed)
        self.bands, self.rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
        self._tables: list[dict[bytes, list[int]]] = [defaultdict(list) for _ in range(self.bands)]
        self._signatures: list[np.ndarray] = []
        self.keys: list[object] = []

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature of a text (uint32 × num_perm)."""
        return self.hasher.signature(text)

    def query(self, signature: np.ndarray) -> tuple[object, float] | None:
        """The best earlier key at or above the threshold, with its estimated similarity."""
        candidates: set[int] = set()
        for band, table in enumerate(self._tables):
            bucket = table.get(self._band(signature, band))
            if bucket:
                candidates.update(bucket)
        best, best_score = None, 0.0
        for index in candidates:
            score = float(np.mean(self._signatures[index] == signature))
            if score >= self.threshold and score > best_score:
                best, best_score = index, score
        return None if best is None else (self.keys[best], best_score)

    def add(self, key: object, signature: np.ndarray) -> None:
        """Index a text under a key (e.g. its position)."""
        index = len(self._signatures)
        self._signatures.append(signature)
        self.keys.append(key)
        for band, table in enumerate(self._tables):
            table[self._band(signature, band)].append(index)

    def _band(self, signature: np.ndarray, band: int) -> bytes:
        return signature[band * self.rows:(band + 1) * self.rows].tobytes()


def duplicate_groups(items: Iterable[tuple[str, str]], threshold: float = 0.8,
                     num_perm: int = 64, seed: int = 0) -> list[int]:
    """A group id per item, shared by exact and near duplicates.

    Args:
        items: ``(content hash, text)`` per record, in order; equal hashes are exact
            duplicates, texts at or above ``threshold`` (MinHash-LSH, as the cleaner's
            near-duplicate step) are near duplicates; both relations are transitive here.
        threshold, num_perm, seed: As :class:`NearDuplicateIndex`.

    Returns:
        For each item, the position of the first item of its group.
    """
    parent: list[int] = []
    first_of_hash: dict[str, int] = {}
    index = NearDuplicateIndex(threshold, num_perm, seed)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for position, (digest, text) in enumerate(items):
        parent.append(position)
        if digest in first_of_hash:
            parent[position] = root(first_of_hash[digest])
            continue
        first_of_hash[digest] = position
        signature = index.signature(text)
        match = index.query(signature)
        if match is not None:
            parent[position] = root(int(match[0]))
        index.add(position, signature)
    return [root(i) for i in range(len(parent))]
