"""Quality-aware selection: k-means for diversity, a per-row score for quality.

Cluster the embeddings (k = budget unless set), share the budget among the
clusters by size, and inside each cluster take the rows with the best mix of
quality (the score, standardised inside the cluster) and typicality
(closeness to the centroid): ``w * z(score) - (1 - w) * z(distance)`` with
``w = quality_weight`` (default 0.5).
"""

from __future__ import annotations

import numpy as np

from engine.select.kmeans_coreset import Selection, allocate_budget, check_budget, fit_kmeans
from engine.select.methods import MethodInput


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def quality_diverse(data: MethodInput) -> Selection:
    """Best-scoring rows per k-means cluster (needs ``data.scores``)."""
    if data.scores is None:
        raise ValueError("the quality method needs a score per record")
    embeddings = np.asarray(data.embeddings, dtype=np.float32)
    check_budget(len(embeddings), data.budget)
    scores = np.asarray(data.scores, dtype=np.float64)
    weight = float(data.options.get("quality_weight", 0.5))
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"quality_weight must be between 0 and 1, got {weight}")
    k = data.k or data.budget
    labels, centroids = fit_kmeans(embeddings, k, data.seed)
    quotas = allocate_budget(np.bincount(labels, minlength=k), data.budget)
    chosen = []
    for cluster, quota in enumerate(quotas):
        if quota == 0:
            continue
        members = np.flatnonzero(labels == cluster)
        distance = np.linalg.norm(embeddings[members] - centroids[cluster], axis=1)
        merit = weight * _standardise(scores[members]) - (1 - weight) * _standardise(distance)
        chosen.append(members[np.argsort(-merit, kind="stable")[:quota]])
    return Selection(indices=np.sort(np.concatenate(chosen)), labels=labels,
                     centroids=centroids, k=k)
