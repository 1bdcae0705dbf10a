"""Deterministic hold-out split, stratified by label when asked."""

from __future__ import annotations

import random
from collections import defaultdict


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
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1 (exclusive), got {fraction}")
    rng = random.Random(seed)
    if label_key is None:
        groups = [list(range(len(records)))]
    else:
        groups = _indices_by_label(records, label_key)
    test: set[int] = set()
    for indices in groups:
        rng.shuffle(indices)
        test.update(indices[:_test_size(len(indices), fraction)])
    train_part = [r for i, r in enumerate(records) if i not in test]
    test_part = [r for i, r in enumerate(records) if i in test]
    return train_part, test_part


def _indices_by_label(records: list[dict], label_key: str) -> list[list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        if label_key not in record:
            line = f" (line {record['_line']})" if "_line" in record else ""
            raise ValueError(f"record {i}{line} has no label field {label_key!r}")
        groups[str(record[label_key])].append(i)
    return [groups[label] for label in sorted(groups)]


def _test_size(count: int, fraction: float) -> int:
    if count < 2:
        return 0
    return min(count - 1, max(1, round(count * fraction)))
