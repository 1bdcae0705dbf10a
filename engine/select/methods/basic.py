"""Random, k-means and k-center greedy selection."""

from __future__ import annotations

import numpy as np

from engine.select.kmeans_coreset import (
    Selection,
    check_budget,
    kmeans_coreset,
    random_selection,
)
from engine.select.methods import MethodInput


def random_method(data: MethodInput) -> Selection:
    """Uniform random sample of ``budget`` rows."""
    return random_selection(len(data.embeddings), data.budget, data.seed)


def _kmeans(data: MethodInput, pick: str) -> Selection:
    return kmeans_coreset(data.embeddings, data.budget, k=data.k, seed=data.seed, pick=pick,
                          allocation=data.options.get("allocation", "proportional"))


def kmeans_nearest(data: MethodInput) -> Selection:
    """k-means; in each cluster the rows nearest the centroid."""
    return _kmeans(data, "nearest")


def kmeans_random(data: MethodInput) -> Selection:
    """k-means; random rows inside each cluster."""
    return _kmeans(data, "random")


def kcenter_indices(embeddings: np.ndarray, budget: int, seed: int = 0) -> np.ndarray:
    """Greedy k-center: start at a seeded random row, then always add the row
    farthest from everything chosen so far (a 2-approximation of the minimax cover).

    Returns:
        ``budget`` distinct indices in the order they were chosen.
    """
    data = np.asarray(embeddings, dtype=np.float32)
    check_budget(len(data), budget)
    squared = np.einsum("ij,ij->i", data, data)
    first = int(np.random.default_rng(seed).integers(len(data)))
    chosen = [first]
    nearest = squared - 2 * data @ data[first] + squared[first]
    for _ in range(budget - 1):
        nearest[chosen[-1]] = -np.inf
        nxt = int(np.argmax(nearest))
        chosen.append(nxt)
        distance = squared - 2 * data @ data[nxt] + squared[nxt]
        np.minimum(nearest, distance, out=nearest)
    return np.asarray(chosen, dtype=np.int64)


def kcenter_greedy(data: MethodInput) -> Selection:
    """k-center greedy over the embeddings."""
    indices = kcenter_indices(data.embeddings, data.budget, data.seed)
    n = len(data.embeddings)
    return Selection(indices=np.sort(indices), labels=np.zeros(n, dtype=np.int64),
                     centroids=np.zeros((0, 0), dtype=np.float32), k=0)
