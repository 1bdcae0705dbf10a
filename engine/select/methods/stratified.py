"""Label-stratified selection: run a method inside each label, budget shared by label size."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from engine.select.kmeans_coreset import Selection, allocate_budget
from engine.select.methods import MethodInput


def label_quotas(labels: list[str], budget: int) -> dict[str, int]:
    """Budget per label, in proportion to its count (each label at least one while budget allows).

    Raises:
        ValueError: if a label is missing (None or empty).
    """
    missing = [i for i, label in enumerate(labels) if label is None or label == ""]
    if missing:
        raise ValueError(f"{len(missing)} rows have no label (first: row {missing[0]}); "
                         "a stratified method needs a label on every record")
    names = sorted(set(labels))
    sizes = np.array([labels.count(name) for name in names])
    return dict(zip(names, (int(q) for q in allocate_budget(sizes, budget))))


def stratified(inner: Callable[[MethodInput], Selection]) -> Callable[[MethodInput], Selection]:
    """A method that runs ``inner`` separately on each label's rows."""

    def run(data: MethodInput) -> Selection:
        if data.labels is None:
            raise ValueError("a stratified method needs labelled records; this dataset has "
                             "no 'label' field")
        quotas = label_quotas(list(data.labels), data.budget)
        label_array = np.asarray(data.labels, dtype=object)
        chosen = []
        for number, (name, quota) in enumerate(quotas.items()):
            if quota == 0:
                continue
            rows = np.flatnonzero(label_array == name)
            k = None if data.k is None else max(1, min(quota, round(data.k * quota / data.budget)))
            seed = int(np.random.SeedSequence([data.seed, number]).generate_state(1)[0])
            scores = None if data.scores is None else data.scores[rows]
            part = inner(replace(data, embeddings=data.embeddings[rows], budget=quota, k=k,
                                 seed=seed, labels=None, scores=scores))
            chosen.append(rows[part.indices])
        n = len(data.embeddings)
        return Selection(indices=np.sort(np.concatenate(chosen)),
                         labels=np.zeros(n, dtype=np.int64),
                         centroids=np.zeros((0, 0), dtype=np.float32), k=0)

    run.__name__ = f"stratified_{inner.__name__}"
    run.__doc__ = f"{inner.__doc__} Run per label."
    return run
