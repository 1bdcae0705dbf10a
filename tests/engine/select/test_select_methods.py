import numpy as np
import pytest

from engine.select.dedup import semantic_dedup
from engine.select.methods import METHOD_NAMES, MethodInput, get_method, run_method
from engine.select.methods.facility import knn_similarity, lazy_greedy
from engine.select.metrics import coverage, label_distribution, map_coordinates


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=4, size=(6, 12))
    points = np.concatenate([c + rng.normal(size=(50, 12)) for c in centres]).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = [f"class{i // 50 % 3}" for i in range(len(points))]
    scores = rng.normal(size=len(points))
    return points, labels, scores


@pytest.mark.parametrize("name", METHOD_NAMES)
@pytest.mark.parametrize("budget", [1, 7, 30])
def test_every_method_returns_exactly_the_budget_of_distinct_rows(data, name, budget):
    points, labels, scores = data
    chosen = run_method(name, MethodInput(points, budget, seed=3, labels=labels, scores=scores))
    assert len(chosen.indices) == len(set(chosen.indices.tolist())) == budget
    assert chosen.indices.min() >= 0 and chosen.indices.max() < len(points)


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_same_seed_gives_the_same_selection(data, name):
    points, labels, scores = data
    first = run_method(name, MethodInput(points, 12, seed=5, labels=labels, scores=scores))
    again = run_method(name, MethodInput(points.copy(), 12, seed=5, labels=list(labels),
                                         scores=scores.copy()))
    assert first.indices.tolist() == again.indices.tolist()


def test_seed_changes_random_and_kmeans_random(data):
    points = data[0]
    for name in ("random", "kmeans-random"):
        a = run_method(name, MethodInput(points, 12, seed=1)).indices
        b = run_method(name, MethodInput(points, 12, seed=2)).indices
        assert a.tolist() != b.tolist()


def test_equal_allocation_and_user_k(data):
    points = data[0]
    chosen = run_method("kmeans", MethodInput(points, 12, seed=0, k=6,
                                              options={"allocation": "equal"}))
    assert chosen.k == 6
    assert sorted(np.bincount(chosen.labels[chosen.indices], minlength=6).tolist()) == [2] * 6


def test_stratified_keeps_label_shares_and_needs_labels(data):
    points, labels, _ = data
    chosen = run_method("stratified-kmeans", MethodInput(points, 30, seed=0, labels=labels))
    shares = label_distribution(labels, chosen.indices)
    assert shares["total_variation"] == 0.0
    with pytest.raises(ValueError, match="needs labelled records"):
        run_method("stratified-random", MethodInput(points, 5))
    assert get_method("stratified-facility").needs_labels


def test_unknown_method_names_the_known_ones():
    with pytest.raises(ValueError, match="known: random, kmeans"):
        get_method("magic")


def test_kcenter_covers_better_than_random_and_facility_is_greedy_optimal_on_blobs(data):
    points = data[0]
    kcenter = run_method("kcenter", MethodInput(points, 12, seed=0)).indices
    random = run_method("random", MethodInput(points, 12, seed=0)).indices
    assert coverage(points, kcenter)["kcenter_radius"] < coverage(points, random)["kcenter_radius"]
    graph = knn_similarity(points, neighbours=10)
    first_two = lazy_greedy(graph, 2)
    gains = np.asarray(graph.sum(axis=0)).ravel()
    assert first_two[0] == int(np.argmax(gains))


def test_semantic_dedup_drops_near_copies_only(data):
    points = data[0]
    noisy = points + 1e-5 * np.random.default_rng(1).normal(size=points.shape)
    both = np.concatenate([points, noisy / np.linalg.norm(noisy, axis=1, keepdims=True)])
    kept = semantic_dedup(both.astype(np.float32), 0.9999)
    assert len(kept) == len(points)
    assert len(semantic_dedup(points, 0.9999)) == len(points)
    assert len(semantic_dedup(both.astype(np.float32), 0.5)) < len(points)
    with pytest.raises(ValueError, match="dedup threshold"):
        semantic_dedup(points, 1.5)


def test_coverage_numbers_and_map(data):
    points, labels, _ = data
    every = coverage(points, np.arange(len(points)), labels)
    assert every["kcenter_radius"] < 1e-3 and every["quantisation_error"] < 1e-6
    assert every["clusters_hit"] == 1.0 and every["labels"]["total_variation"] == 0
    one = coverage(points, np.array([0]), labels)
    assert one["labels"]["labels_missing"] == ["class1", "class2"]
    assert map_coordinates(points).shape == (len(points), 2)
