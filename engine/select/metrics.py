"""How well a subset covers the full set, and the 2-D map of all rows."""

from __future__ import annotations

from collections import Counter

import numpy as np

from engine.select.kmeans_coreset import fit_kmeans

REFERENCE_SEED = 1_000_003  # not a seed users pick, so no method shares its partition
MAX_REFERENCE_CLUSTERS = 100


def nearest_selected_distance(embeddings: np.ndarray, indices: np.ndarray,
                              chunk: int = 4096) -> np.ndarray:
    """Euclidean distance of every row to its nearest selected row."""
    data = np.asarray(embeddings, dtype=np.float32)
    chosen = data[np.asarray(indices)]
    chosen_sq = np.einsum("ij,ij->i", chosen, chosen)
    out = np.empty(len(data), dtype=np.float32)
    for start in range(0, len(data), chunk):
        block = data[start:start + chunk]
        squared = (np.einsum("ij,ij->i", block, block)[:, None] - 2 * block @ chosen.T
                   + chosen_sq[None, :])
        out[start:start + chunk] = np.sqrt(np.maximum(squared.min(axis=1), 0))
    return out


def reference_clusters(embeddings: np.ndarray, budget: int) -> np.ndarray:
    """A fixed k-means partition (k = min(budget, 100), a reserved seed) to judge every
    method on."""

    k = max(1, min(budget, MAX_REFERENCE_CLUSTERS, len(embeddings)))
    labels, _ = fit_kmeans(np.asarray(embeddings, np.float32), k, REFERENCE_SEED)
    return labels


def label_distribution(labels: list[str] | None, indices: np.ndarray) -> dict | None:
    """Share of each label in all rows and in the subset, and their total variation distance."""
    if labels is None:
        return None
    every = Counter(labels)
    subset = Counter(labels[i] for i in indices)
    names = sorted(every)
    share_all = {n: every[n] / len(labels) for n in names}
    share_subset = {n: subset.get(n, 0) / max(len(indices), 1) for n in names}
    distance = 0.5 * sum(abs(share_all[n] - share_subset[n]) for n in names)
    return {"all": share_all, "subset": share_subset, "total_variation": round(distance, 4),
            "labels_missing": [n for n in names if subset.get(n, 0) == 0]}


def coverage(embeddings: np.ndarray, indices: np.ndarray, labels: list[str] | None = None,
             clusters: np.ndarray | None = None) -> dict:
    """Coverage numbers of a subset.

    Args:
        embeddings: all rows ``(n, dim)``.
        indices: the selected rows.
        labels: class labels of all rows, if any.
        clusters: a reference partition; by default :func:`reference_clusters`.

    Returns:
        ``kcenter_radius`` (farthest any row is from the subset), ``mean_distance``,
        ``quantisation_error`` (mean squared distance of every row to its nearest
        selected row), ``clusters_hit`` (share of reference clusters with a selected
        row), ``reference_clusters`` and ``labels`` (see :func:`label_distribution`).
    """
    indices = np.asarray(indices)
    distance = nearest_selected_distance(embeddings, indices)
    if clusters is None:
        clusters = reference_clusters(embeddings, len(indices))
    hit = len(np.unique(clusters[indices])) / max(len(np.unique(clusters)), 1)
    return {"kcenter_radius": round(float(distance.max()), 4),
            "mean_distance": round(float(distance.mean()), 4),
            "quantisation_error": round(float(np.mean(distance.astype(np.float64) ** 2)), 4),
            "clusters_hit": round(float(hit), 4),
            "reference_clusters": int(len(np.unique(clusters))),
            "labels": label_distribution(labels, indices)}


def map_coordinates(embeddings: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D PCA coordinates of every row (float32 ``(n, 2)``)."""
    data = np.asarray(embeddings, dtype=np.float32)
    if len(data) < 3:
        return np.zeros((len(data), 2), dtype=np.float32)
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(data).astype(np.float32)
