"""Selectors that use what a labelled pool offers.

- ``kmeans-balanced``: k-means on all rows with one cluster per selected row (the
  founding paper), then, in each cluster, among the rows nearly as typical as the
  nearest one, the row whose label has been picked least so far. Covers the space
  like k-means and spreads the labels like stratification; meant for budgets below
  about two rows per label, where a per-label quota starves most labels.
- ``spread-kmeans``: per-label k-means (rows nearest each centroid) with each
  label's share of the budget proportional to its size times its spread (mean
  distance to the label centre: Neyman allocation), so tight labels get fewer rows
  and scattered ones more; with fewer rows than labels, one row for each of the
  largest labels.
- ``probe-mix``: per-label k-means clusters as in ``spread-kmeans``; inside each
  cluster the row with the best mix of typicality (near the centre) and
  uncertainty under a cross-validated logistic probe (low probability of its own
  label), leaving out rows the probe puts firmly in another label (likely
  mislabelled or ambiguous).
"""

from __future__ import annotations

import numpy as np

from engine.select.kmeans_coreset import Selection, allocate_budget, check_budget, fit_kmeans
from engine.select.methods import MethodInput

NEAR_FACTOR = 1.15  # a row is "nearly as typical" within this factor of the nearest distance


def _empty_selection(indices: np.ndarray, n: int) -> Selection:
    return Selection(indices=np.sort(indices), labels=np.zeros(n, dtype=np.int64),
                     centroids=np.zeros((0, 0), dtype=np.float32), k=0)


def _require_labels(data: MethodInput, name: str) -> np.ndarray:
    if data.labels is None:
        raise ValueError(f"{name} needs labelled records; this dataset has no 'label' field")
    labels = np.asarray(data.labels, dtype=object)
    missing = [i for i, label in enumerate(labels) if label is None or label == ""]
    if missing:
        raise ValueError(f"{len(missing)} rows have no label (first: row {missing[0]}); "
                         f"{name} needs a label on every record")
    return labels


def kmeans_balanced(data: MethodInput) -> Selection:
    """k-means cover with labels balanced among the picks."""
    labels = _require_labels(data, "kmeans-balanced")
    embeddings = np.asarray(data.embeddings, dtype=np.float32)
    check_budget(len(embeddings), data.budget)
    clusters, centroids = fit_kmeans(embeddings, data.budget, data.seed)
    counts: dict[str, int] = {}
    chosen = []
    sizes = np.bincount(clusters, minlength=data.budget)
    for cluster in np.argsort(-sizes, kind="stable"):
        members = np.flatnonzero(clusters == cluster)
        if len(members) == 0:
            continue
        distance = np.linalg.norm(embeddings[members] - centroids[cluster], axis=1)
        order = np.argsort(distance, kind="stable")
        near = order[distance[order] <= distance[order[0]] * NEAR_FACTOR + 1e-9]
        best = min(near, key=lambda i: (counts.get(labels[members[i]], 0), distance[i]))
        chosen.append(members[best])
        counts[labels[members[best]]] = counts.get(labels[members[best]], 0) + 1
    indices = np.asarray(chosen, dtype=np.int64)
    if len(indices) < data.budget:  # empty clusters: fill with the rows farthest from the picks
        rest = np.setdiff1d(np.arange(len(embeddings)), indices)
        gap = np.min(np.linalg.norm(embeddings[rest, None] - embeddings[None, indices], axis=2),
                     axis=1)
        indices = np.concatenate([indices, rest[np.argsort(-gap)[:data.budget - len(indices)]]])
    return Selection(indices=np.sort(indices), labels=clusters, centroids=centroids,
                     k=data.budget)


def spread_quotas(embeddings: np.ndarray, labels: np.ndarray, budget: int) -> dict[str, int]:
    """Budget per label in proportion to size × spread, each label at least one while
    the budget allows, never more than its rows.

    With fewer rows than labels, the largest labels get one row each: a label's single
    row is worth about its share of the data to a classifier, whatever its spread.
    """
    names = sorted(set(labels.tolist()))
    if budget < len(names):
        sizes = np.array([int(np.sum(labels == name)) for name in names])
        return dict(zip(names, (int(q) for q in allocate_budget(sizes, budget))))
    weights, sizes = [], []
    for name in names:
        rows = embeddings[labels == name]
        spread = float(np.linalg.norm(rows - rows.mean(axis=0), axis=1).mean()) if len(rows) > 1 \
            else 0.0
        sizes.append(len(rows))
        weights.append(len(rows) * max(spread, 1e-6))
    scaled = np.asarray(weights) / sum(weights) * sum(sizes)
    quotas = _weighted_allocation(np.asarray(sizes), scaled, budget)
    return dict(zip(names, (int(q) for q in quotas)))


def _weighted_allocation(sizes: np.ndarray, weights: np.ndarray, budget: int) -> np.ndarray:
    """Like :func:`allocate_budget`, with ``weights`` in place of sizes for the shares."""
    quotas = allocate_budget(np.maximum(np.round(weights * 1000).astype(np.int64), 1), budget)
    over = np.maximum(quotas - sizes, 0)
    quotas -= over
    spare = int(over.sum())
    while spare:
        room = np.flatnonzero(quotas < sizes)
        take = room[np.argsort(-(weights[room] - quotas[room]), kind="stable")][:spare]
        quotas[take] += 1
        spare -= len(take)
    return quotas


def _per_label(data: MethodInput, name: str, merit) -> Selection:
    """Per-label k-means with spread quotas; ``merit(rows, members, distance)`` ranks the
    members of a cluster (higher first)."""
    labels = _require_labels(data, name)
    embeddings = np.asarray(data.embeddings, dtype=np.float32)
    check_budget(len(embeddings), data.budget)
    chosen = []
    for number, (label, quota) in enumerate(spread_quotas(embeddings, labels,
                                                         data.budget).items()):
        if quota == 0:
            continue
        rows = np.flatnonzero(labels == label)
        seed = int(np.random.SeedSequence([data.seed, number]).generate_state(1)[0])
        clusters, centroids = fit_kmeans(embeddings[rows], quota, seed) if quota < len(rows) \
            else (np.arange(len(rows)), embeddings[rows])
        for cluster in range(quota):
            members = rows[clusters == cluster]
            if len(members) == 0:
                continue
            distance = np.linalg.norm(embeddings[members] - centroids[cluster], axis=1)
            chosen.append(members[int(np.argmax(merit(members, distance)))])
        missing = quota - sum(1 for c in chosen if labels[c] == label)
        if missing > 0:  # empty clusters: the label's rows nearest its centre not yet taken
            rest = np.setdiff1d(rows, chosen)
            centre = embeddings[rows].mean(axis=0)
            near = rest[np.argsort(np.linalg.norm(embeddings[rest] - centre, axis=1))]
            chosen.extend(near[:missing].tolist())
    return _empty_selection(np.asarray(chosen, dtype=np.int64), len(embeddings))


def spread_kmeans(data: MethodInput) -> Selection:
    """Per-label k-means, budget by size × spread, rows nearest each centre."""
    return _per_label(data, "spread-kmeans", lambda members, distance: -distance)


def probe_confidence(embeddings: np.ndarray, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Cross-validated probability of each row's own label under a logistic probe
    (labels with fewer than two rows get 1.0)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    names, counts = np.unique(labels.astype(str), return_counts=True)
    usable = np.isin(labels.astype(str), names[counts >= 2])
    out = np.ones(len(labels))
    if len(np.unique(labels[usable].astype(str))) < 2:
        return out
    folds = int(min(5, counts[counts >= 2].min()))
    split = StratifiedKFold(n_splits=max(folds, 2), shuffle=True, random_state=seed)
    probe = LogisticRegression(max_iter=1000, C=10.0)
    proba = cross_val_predict(probe, embeddings[usable], labels[usable].astype(str), cv=split,
                              method="predict_proba")
    classes = np.unique(labels[usable].astype(str))
    own = np.searchsorted(classes, labels[usable].astype(str))
    out[usable] = proba[np.arange(len(own)), own]
    return out


def probe_mix(data: MethodInput) -> Selection:
    """Per-label clusters; typical yet uncertain rows under a cross-validated probe."""
    labels = _require_labels(data, "probe-mix")
    weight = float(data.options.get("uncertainty_weight", 0.5))
    confidence = data.scores if data.scores is not None \
        else probe_confidence(np.asarray(data.embeddings, np.float32), labels, data.seed)

    def merit(members: np.ndarray, distance: np.ndarray) -> np.ndarray:
        own = confidence[members]
        typical = -distance / max(float(distance.max()), 1e-9)
        value = (1 - weight) * typical + weight * (1 - own)
        return np.where(own < 0.2, value - 10.0, value)  # firmly another label: last resort

    return _per_label(data, "probe-mix", merit)
