"""Deterministic hold-out split, stratified by label when asked."""

from __future__ import annotations

import math
import random
from array import array
from collections import defaultdict
from typing import Sequence

import numpy as np


def check_test_fraction(fraction: float) -> float:
    """The share held out for testing, if it is one: at least 0 (no split) and below 1.

    Raises:
        ValueError: If it is out of range or not a number.
    """
    if not isinstance(fraction, (int, float)) or not math.isfinite(fraction) \
            or not 0 <= fraction < 1:
        raise ValueError(f"the test fraction must be at least 0 (no test split) and below 1, "
                         f"got {fraction!r}")
    return float(fraction)


def hold_out(
    records: list[dict], fraction: float, seed: int, label_key: str | None = None,
) -> tuple[list[dict], list[dict]]:
    """Split records into a training part and a held-out test part.

    The same records, fraction and seed give the same split. Both parts keep
    the input order. With ``label_key``, each label is split on its own, so the
    test part has the same label mix; every label with at least two records
    gets at least one test record and keeps at least one for training.

    Args:
        records: The records to split.
        fraction: Share held out for testing, strictly between 0 and 1.
        seed: Seed of the shuffle.
        label_key: Key of the label to stratify by, or None for a plain random split.

    Returns:
        ``(train, test)``.

    Raises:
        ValueError: If ``fraction`` is out of range or a record lacks ``label_key``.
    """
    labels = None if label_key is None else [_label(r, i, label_key) for i, r in enumerate(records)]
    test = held_out_positions(len(records), labels, fraction, seed)
    train_part = [r for i, r in enumerate(records) if i not in test]
    test_part = [r for i, r in enumerate(records) if i in test]
    return train_part, test_part


def _label(record: dict, index: int, label_key: str) -> object:
    if label_key not in record:
        line = f" (line {record['_line']})" if "_line" in record else ""
        raise ValueError(f"record {index}{line} has no label field {label_key!r}")
    return record[label_key]


def held_out_positions(count: int, labels: list | None, fraction: float, seed: int,
                       groups: list[int] | None = None) -> set[int]:
    """The positions :func:`hold_out` would put in the test part, without the records.

    With ``groups``, records that share a group id (duplicates of each other) land on the
    same side: whole groups are shuffled and held out until the test part has its size
    (a group that would overshoot it stays in training). A group is stratified by the
    label of its first record. Without groups every record is its own group, which gives
    the plain split.

    Args:
        count: Number of records.
        labels: The label of each record to stratify by, or None.
        fraction: Share held out, strictly between 0 and 1.
        seed: Seed of the shuffle.
        groups: A group id per record, or None.

    Returns:
        The held-out positions (the same as ``hold_out`` on records with these labels).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1 (exclusive), got {fraction}")
    rng = random.Random(seed)
    members: dict[int, list[int]] = defaultdict(list)
    for position in range(count):
        members[groups[position] if groups is not None else position].append(position)
    strata: dict[str, list[list[int]]] = defaultdict(list)
    for group in members.values():
        strata["" if labels is None else str(labels[group[0]])].append(group)
    test: set[int] = set()
    for label in sorted(strata):
        units = strata[label]
        rng.shuffle(units)
        wanted, taken = _test_size(sum(len(u) for u in units), fraction), 0
        for unit in units:
            if taken + len(unit) <= wanted:
                test.update(unit)
                taken += len(unit)
            if taken == wanted:
                break
    return test


def _test_size(count: int, fraction: float) -> int:
    if count < 2:
        return 0
    return min(count - 1, max(1, round(count * fraction)))


def held_out_mask(roots: np.ndarray, codes: np.ndarray | None, names: Sequence[str],
                  fraction: float, seed: int) -> np.ndarray:
    """:func:`held_out_positions` as a boolean mask, from compact arrays (a few bytes per
    record, no Python object per record), for versions too big for lists and sets.

    Args:
        roots: For each position, the first position of its group (``arange`` for the
            plain split); a group's first record is its smallest position.
        codes: For each position, the index in ``names`` of its label, or None.
        names: The labels as text.
        fraction, seed: As :func:`held_out_positions`.

    Returns:
        True at the held-out positions: the same positions as :func:`held_out_positions`
        with ``labels[i] = names[codes[i]]`` and ``groups = roots``.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1 (exclusive), got {fraction}")
    rng = random.Random(seed)
    count = len(roots)
    firsts = np.flatnonzero(roots == np.arange(count, dtype=roots.dtype))
    sizes = np.bincount(roots, minlength=count)
    strata = np.zeros(len(firsts), dtype=np.int64) if codes is None else codes[firsts]
    labels = [""] if codes is None else list(names)
    chosen = np.zeros(count, dtype=bool)
    for code in sorted(set(np.unique(strata).tolist()), key=lambda c: labels[c]):
        units = array("q", firsts[strata == code].tobytes())
        _shuffle(rng, units)
        wanted, taken = _test_size(int(sizes[np.frombuffer(units, np.int64)].sum()), fraction), 0
        for unit in units:
            size = int(sizes[unit])
            if taken + size <= wanted:
                chosen[unit] = True
                taken += size
            if taken == wanted:
                break
    return chosen[roots]


def _shuffle(rng: random.Random, items: array) -> None:
    """``rng.shuffle(items)`` in place on an array: the same draws, the same order."""
    below = rng._randbelow  # what random.shuffle draws with
    for i in reversed(range(1, len(items))):
        j = below(i + 1)
        items[i], items[j] = items[j], items[i]
