"""Semantic de-duplication before selection (after SemDeDup, Abbas et al. 2023).

Cluster the embeddings coarsely; inside each cluster walk the rows from the
centroid outwards and drop every row whose cosine similarity to a row already
kept is at least the threshold. Near-identical records then cannot fill a budget.
"""

from __future__ import annotations

import numpy as np

from engine.select.kmeans_coreset import fit_kmeans

ROWS_PER_CLUSTER = 100


def semantic_dedup(embeddings: np.ndarray, threshold: float, seed: int = 0) -> np.ndarray:
    """Rows to keep after dropping near duplicates.

    Args:
        embeddings: ``(n, dim)`` L2-normalised rows.
        threshold: cosine similarity at or above which two rows count as duplicates
            (e.g. 0.95); in ``(0, 1]``.
        seed: k-means seed.

    Returns:
        Sorted indices of the rows kept (at least one).

    Raises:
        ValueError: if the threshold is not in ``(0, 1]``.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")
    data = np.asarray(embeddings, dtype=np.float32)
    if len(data) < 2:
        return np.arange(len(data))
    k = max(1, len(data) // ROWS_PER_CLUSTER)
    labels, centroids = fit_kmeans(data, k, seed)
    kept: list[int] = []
    for cluster in range(k):
        members = np.flatnonzero(labels == cluster)
        order = members[np.argsort(np.linalg.norm(data[members] - centroids[cluster], axis=1),
                                   kind="stable")]
        similarity = data[order] @ data[order].T
        keep_mask = np.ones(len(order), dtype=bool)
        for position in range(len(order)):
            if keep_mask[position]:
                later = similarity[position, position + 1:] >= threshold
                keep_mask[position + 1:][later] = False
        kept.extend(order[keep_mask].tolist())
    return np.sort(np.asarray(kept, dtype=np.int64))
