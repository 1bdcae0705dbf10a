"""Per-example loss weights that re-balance the groups of a training set (fairness mitigation).

A record field (``recipe.reweight_by``, e.g. ``"sex"`` or ``"site"``) names each record's
group. The weights:

* classification: Kamiran & Calders reweighing, ``w(g, y) = P(g) · P(y) / P(g, y)`` with the
  probabilities counted on the training records. Weighted, group and label are independent:
  a group whose labels are skewed, or that is rare, no longer teaches the model that its
  members are mostly one label.
* instruction and text tasks (no label): inverse group frequency, ``w(g) = n / (k · n_g)``
  for ``k`` groups, so every group carries the same total weight.

Either way the weights are scaled so that their mean over the training examples is 1: the
loss keeps its scale and the learning rate its meaning. The same records give the same
weights, so a resumed run recomputes exactly the weights it started with.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from engine.data.groups import record_groups as data_groups


def check_group_field(records: Sequence[dict], field: str) -> None:
    """Check that every record has a value in the group field.

    Raises:
        ValueError: naming the first record (by position, and line when known) that lacks
            the field or leaves it empty.
    """
    for index, record in enumerate(records):
        value = record.get(field) if isinstance(record, dict) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            line = record.get("_line") if isinstance(record, dict) else None
            where = f"record {index}" + (f" (line {line})" if line is not None else "")
            raise ValueError(f"{where}: field '{field}' is missing or empty; reweight_by="
                             f"'{field}' needs the group of every training record")


def record_groups(records: Sequence[dict], field: str) -> list[str]:
    """The group of each record as a string (as the fairness evaluation reads it).

    Raises:
        ValueError: naming the record when the field is missing or empty.
    """
    check_group_field(records, field)
    return data_groups(records, field)


def normalise_mean_one(weights: Sequence[float]) -> list[float]:
    """Scale weights so that their mean is 1 (an empty list stays empty)."""
    if not weights:
        return []
    mean = sum(weights) / len(weights)
    return [weight / mean for weight in weights]


def reweighing_weights(groups: Sequence[str], labels: Sequence[str]) -> list[float]:
    """Kamiran & Calders reweighing: ``P(g) · P(y) / P(g, y)`` per example, mean 1.

    Args:
        groups: the group of each example.
        labels: the label of each example.

    Raises:
        ValueError: when the two lists differ in length or are empty.
    """
    if len(groups) != len(labels) or not groups:
        raise ValueError(f"need one group per label, got {len(groups)} groups and "
                         f"{len(labels)} labels")
    total = len(groups)
    group_count, label_count = Counter(groups), Counter(labels)
    cell_count = Counter(zip(groups, labels))
    weights = [group_count[g] * label_count[y] / (total * cell_count[g, y])
               for g, y in zip(groups, labels)]
    return normalise_mean_one(weights)


def inverse_frequency_weights(groups: Sequence[str]) -> list[float]:
    """``n / (k · n_g)`` per example: every group carries the same total weight; mean 1.

    Raises:
        ValueError: when ``groups`` is empty.
    """
    if not groups:
        raise ValueError("need at least one example to weigh")
    count = Counter(groups)
    return normalise_mean_one([len(groups) / (len(count) * count[g]) for g in groups])


def example_weights(records: Sequence[dict], field: str, task: str) -> list[float]:
    """The loss weight of each training record for ``recipe.reweight_by = field``.

    Args:
        records: the training records (after the eval split).
        field: the record field that holds the group.
        task: ``classification`` uses reweighing by group and ``label``; other tasks use
            inverse group frequency.

    Raises:
        ValueError: naming the record when the group field is missing or empty.
    """
    groups = record_groups(records, field)
    if task == "classification":
        return reweighing_weights(groups, [str(record.get("label")) for record in records])
    return inverse_frequency_weights(groups)


def weight_table(records: Sequence[dict], field: str, task: str,
                 weights: Sequence[float]) -> list[dict]:
    """One row per group (and label, for classification): count and weight, for the record.

    Returns:
        ``[{"group", "label" (classification only), "count", "weight"}]``, sorted.
    """
    groups = record_groups(records, field)
    labels = [str(record.get("label")) for record in records] \
        if task == "classification" else [None] * len(groups)
    cells: dict[tuple, list[float]] = {}
    for group, label, weight in zip(groups, labels, weights):
        cells.setdefault((group, label), []).append(weight)
    rows = []
    for (group, label), values in sorted(cells.items(), key=lambda item: str(item[0])):
        row = {"group": group, "count": len(values), "weight": round(values[0], 6)}
        if label is not None:
            row["label"] = label
        rows.append(row)
    return rows
