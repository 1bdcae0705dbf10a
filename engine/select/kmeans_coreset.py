"""k-means coreset selection and the random baseline.

Cluster the embeddings, then keep the samples nearest to each centroid: with
``k == budget`` one representative per cluster; with fewer clusters the
budget is shared among clusters in proportion to their size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Selection:
    """The chosen rows of a dataset.

    Attributes:
        indices: chosen row indices, sorted ascending.
        labels: cluster label of every row (all rows, not only the chosen).
        centroids: cluster centres, shape ``(k, dim)``; empty for baselines.
        k: number of clusters (0 for baselines).
    """

    indices: np.ndarray
    labels: np.ndarray
    centroids: np.ndarray
    k: int


def check_budget(n: int, budget: int) -> None:
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)):
        raise TypeError(f"budget must be an integer, not {type(budget).__name__}")
    if n < 1:
        raise ValueError("cannot select from an empty dataset")
    if not 1 <= budget <= n:
        raise ValueError(f"budget must be between 1 and the dataset size {n}, got {budget}")


def random_selection(n: int, budget: int, seed: int = 0) -> Selection:
    """Uniform random sample of ``budget`` distinct rows out of ``n``.

    Raises:
        ValueError: if ``budget`` is not in ``1..n``.
    """
    check_budget(n, budget)
    rng = np.random.default_rng(seed)
    indices = np.sort(rng.choice(n, size=budget, replace=False))
    return Selection(indices=indices, labels=np.zeros(n, dtype=np.int64),
                     centroids=np.zeros((0, 0), dtype=np.float32), k=0)


def allocate_budget(cluster_sizes: np.ndarray, budget: int) -> np.ndarray:
    """Share ``budget`` among clusters in proportion to their sizes.

    Largest remainders get the leftover units; no cluster gets more than its
    size, and every non-empty cluster gets at least one while budget allows.
    """
    sizes = np.asarray(cluster_sizes, dtype=np.int64)
    order = np.argsort(-sizes, kind="stable")
    quotas = np.zeros_like(sizes)
    nonempty = order[sizes[order] > 0]
    quotas[nonempty[:budget]] = 1
    remaining = budget - int(quotas.sum())
    if remaining > 0:
        room = sizes - quotas
        share = remaining * room / max(int(room.sum()), 1)
        extra = np.minimum(np.floor(share).astype(np.int64), room)
        quotas += extra
        remaining -= int(extra.sum())
        remainder_order = np.argsort(-(share - np.floor(share)), kind="stable")
        while remaining > 0:
            for cluster in remainder_order:
                if remaining and quotas[cluster] < sizes[cluster]:
                    quotas[cluster] += 1
                    remaining -= 1
    return quotas


def equal_allocation(cluster_sizes: np.ndarray, budget: int) -> np.ndarray:
    """Share ``budget`` equally among clusters, capped at each cluster's size.

    Units a small cluster cannot take go round-robin to the larger ones.
    """
    sizes = np.asarray(cluster_sizes, dtype=np.int64)
    quotas = np.zeros_like(sizes)
    order = np.argsort(-sizes, kind="stable")
    remaining = min(budget, int(sizes.sum()))
    while remaining > 0:
        for cluster in order:
            if remaining and quotas[cluster] < sizes[cluster]:
                quotas[cluster] += 1
                remaining -= 1
    return quotas


def _pick_in_cluster(embeddings: np.ndarray, labels: np.ndarray, centroid: np.ndarray,
                     cluster: int, count: int, pick: str, rng: np.random.Generator) -> np.ndarray:
    members = np.flatnonzero(labels == cluster)
    if pick == "random":
        return np.sort(rng.choice(members, size=count, replace=False))
    distances = np.linalg.norm(embeddings[members] - centroid, axis=1)
    return members[np.argsort(distances, kind="stable")[:count]]


def fit_kmeans(data: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels and centres; full k-means up to 20,000 rows, mini-batch above.

    Returns:
        ``(labels, centroids)`` as int64 and float32 arrays.
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if len(data) <= 20_000:
        model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(data)
    else:
        model = MiniBatchKMeans(n_clusters=k, n_init=1, random_state=seed, batch_size=4096,
                                max_iter=10, init_size=min(len(data), max(3 * k, 10_000)),
                                reassignment_ratio=0.0).fit(data)
        model.labels_ = model.predict(data)
    return model.labels_.astype(np.int64), model.cluster_centers_.astype(np.float32)


def kmeans_coreset(embeddings: np.ndarray, budget: int, *, k: int | None = None,
                   seed: int = 0, pick: str = "nearest",
                   allocation: str = "proportional") -> Selection:
    """Select ``budget`` representative rows by k-means clustering.

    Args:
        embeddings: array of shape ``(n, dim)``.
        budget: how many rows to keep.
        k: number of clusters, ``budget`` by default; at most ``budget``.
        seed: random seed of k-means; the same seed gives the same selection.
        pick: ``"nearest"`` (rows nearest each centroid) or ``"random"`` (random rows
            inside each cluster).
        allocation: ``"proportional"`` (budget shared by cluster size) or ``"equal"``.

    Returns:
        A :class:`Selection` of exactly ``budget`` distinct rows.

    Raises:
        ValueError: if the embeddings are not a finite 2-D array, the budget is
            not in ``1..n``, ``k`` is not in ``1..budget``, or pick/allocation is unknown.
    """
    data = np.asarray(embeddings, dtype=np.float32)
    if data.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D array (n, dim), got shape {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError("embeddings contain NaN or infinite values")
    check_budget(len(data), budget)
    k = budget if k is None else k
    if not 1 <= k <= budget:
        raise ValueError(f"k must be between 1 and the budget {budget}, got {k}")
    if pick not in ("nearest", "random") or allocation not in ("proportional", "equal"):
        raise ValueError(f"pick must be 'nearest' or 'random' and allocation 'proportional' "
                         f"or 'equal' (got {pick!r}, {allocation!r})")
    labels, centroids = fit_kmeans(data, k, seed)
    sizes = np.bincount(labels, minlength=k)
    share = allocate_budget if allocation == "proportional" else equal_allocation
    quotas = share(sizes, budget)
    rng = np.random.default_rng(seed)
    chosen = [_pick_in_cluster(data, labels, centroids[c], c, int(q), pick, rng)
              for c, q in enumerate(quotas) if q > 0]
    indices = np.sort(np.concatenate(chosen))
    return Selection(indices=indices, labels=labels, centroids=centroids, k=k)
