"""Facility location on a sparse k-nearest-neighbour graph, by lazy greedy.

F(S) = sum over all rows i of max over chosen j of sim(i, j), where sim is
(1 + cosine) / 2 on the k-NN graph (each row is its own neighbour) and 0
elsewhere. F is monotone submodular, so greedy is within (1 - 1/e) of the best
subset, and lazy evaluation (Minoux) skips most gain updates. Ties go to the
lower index, so the result is deterministic for a given graph.
"""

from __future__ import annotations

import heapq

import numpy as np

from engine.select.kmeans_coreset import Selection, check_budget
from engine.select.methods import MethodInput


def knn_similarity(embeddings: np.ndarray, neighbours: int = 20):
    """Sparse ``(n, n)`` CSC matrix: column j holds the rows that j can represent.

    Row i has entries for its ``neighbours`` nearest rows (itself included),
    valued (1 + cosine) / 2.
    """
    from scipy.sparse import csr_matrix
    from sklearn.neighbors import NearestNeighbors

    data = np.asarray(embeddings, dtype=np.float32)
    n = len(data)
    count = min(neighbours + 1, n)
    finder = NearestNeighbors(n_neighbors=count, metric="cosine", algorithm="brute").fit(data)
    distances, columns = finder.kneighbors(data)
    values = np.clip(1.0 - distances / 2.0, 0.0, 1.0)  # (1 + cos) / 2
    rows = np.repeat(np.arange(n), count)
    graph = csr_matrix((values.ravel(), (rows, columns.ravel())), shape=(n, n))
    graph.setdiag(1.0)
    return graph.tocsc()


def lazy_greedy(similarity, budget: int) -> np.ndarray:
    """Greedy maximisation of facility location with lazy gain updates.

    Returns:
        ``budget`` distinct column indices in the order chosen.
    """
    n = similarity.shape[1]
    check_budget(n, budget)
    covered = np.zeros(similarity.shape[0], dtype=np.float64)
    indptr, indices, values = similarity.indptr, similarity.indices, similarity.data
    gains = np.add.reduceat(values, indptr[:-1]) if len(values) else np.zeros(n)
    gains[np.diff(indptr) == 0] = 0.0
    heap = [(-float(g), j) for j, g in enumerate(gains)]
    heapq.heapify(heap)
    chosen: list[int] = []
    while len(chosen) < budget:
        _, j = heapq.heappop(heap)
        rows = indices[indptr[j]:indptr[j + 1]]
        gain = float(np.maximum(values[indptr[j]:indptr[j + 1]] - covered[rows], 0).sum())
        if heap and gain < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-gain, j))
            continue
        chosen.append(j)
        np.maximum.at(covered, rows, values[indptr[j]:indptr[j + 1]])
    return np.asarray(chosen, dtype=np.int64)


def facility_location(data: MethodInput) -> Selection:
    """Facility-location selection (option ``knn``: neighbours per row, default 20)."""
    check_budget(len(data.embeddings), data.budget)
    graph = knn_similarity(data.embeddings, int(data.options.get("knn", 20)))
    indices = lazy_greedy(graph, data.budget)
    n = len(data.embeddings)
    return Selection(indices=np.sort(indices), labels=np.zeros(n, dtype=np.int64),
                     centroids=np.zeros((0, 0), dtype=np.float32), k=0)
