import numpy as np
import pytest

from engine.select.kmeans_coreset import allocate_budget, kmeans_coreset, random_selection


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=10, size=(8, 16))
    points = np.concatenate([c + rng.normal(size=(40, 16)) for c in centres])
    return points.astype(np.float32)


def test_picks_budget_distinct_indices_one_per_cluster(blobs):
    selection = kmeans_coreset(blobs, 8, seed=0)
    assert len(selection.indices) == len(set(selection.indices.tolist())) == 8
    assert selection.k == 8 and selection.centroids.shape == (8, 16)
    assert sorted(selection.labels[selection.indices].tolist()) == list(range(8))
    assert sorted((selection.indices // 40).tolist()) == list(range(8))  # one per true blob


def test_each_pick_is_nearest_to_its_centroid(blobs):
    selection = kmeans_coreset(blobs, 8, seed=0)
    for index in selection.indices:
        cluster = selection.labels[index]
        members = np.flatnonzero(selection.labels == cluster)
        distances = np.linalg.norm(blobs[members] - selection.centroids[cluster], axis=1)
        assert members[np.argmin(distances)] == index


def test_deterministic_per_seed(blobs):
    first = kmeans_coreset(blobs, 20, seed=3)
    again = kmeans_coreset(blobs, 20, seed=3)
    assert np.array_equal(first.indices, again.indices)
    assert np.array_equal(random_selection(320, 20, 5).indices,
                          random_selection(320, 20, 5).indices)
    assert not np.array_equal(random_selection(320, 20, 5).indices,
                              random_selection(320, 20, 6).indices)


def test_fewer_clusters_than_budget_shares_proportionally(blobs):
    selection = kmeans_coreset(blobs, 24, k=4, seed=0)
    assert len(np.unique(selection.indices)) == 24
    per_cluster = np.bincount(selection.labels[selection.indices], minlength=4)
    sizes = np.bincount(selection.labels, minlength=4)
    assert np.all(np.abs(per_cluster - 24 * sizes / sizes.sum()) <= 1)


def test_allocate_budget():
    assert allocate_budget(np.array([50, 30, 20, 0]), 10).tolist() == [5, 3, 2, 0]
    assert allocate_budget(np.array([1, 1, 98]), 3).tolist() == [1, 1, 1]
    assert allocate_budget(np.array([5, 5, 5]), 15).tolist() == [5, 5, 5]


def test_budget_validation(blobs):
    with pytest.raises(ValueError, match="between 1 and the dataset size 320"):
        kmeans_coreset(blobs, 0)
    with pytest.raises(ValueError, match="between 1 and the dataset size 320"):
        kmeans_coreset(blobs, 321)
    with pytest.raises(ValueError, match="k must be between 1 and the budget 5"):
        kmeans_coreset(blobs, 5, k=6)
    with pytest.raises(TypeError, match="budget must be an integer"):
        random_selection(10, 2.5)
    with pytest.raises(ValueError, match="2-D"):
        kmeans_coreset(blobs[0], 2)
    with pytest.raises(ValueError, match="empty"):
        random_selection(0, 1)
