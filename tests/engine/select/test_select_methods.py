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


def _labelled_blobs(spreads=(0.05, 0.05, 0.4, 0.4), rows=40, seed=0):
    """One blob per label; labels differ in how scattered their rows are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(spreads), 16)) * 3
    points, labels = [], []
    for number, (centre, spread) in enumerate(zip(centres, spreads)):
        points.append(centre + spread * rng.normal(size=(rows, 16)))
        labels += [f"label{number}"] * rows
    points = np.concatenate(points).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True), labels


def test_spread_quotas_give_scattered_labels_more_rows():
    from engine.select.methods.labelled import spread_quotas

    points, labels = _labelled_blobs()
    quotas = spread_quotas(points, np.asarray(labels, dtype=object), 20)
    assert sum(quotas.values()) == 20 and min(quotas.values()) >= 1
    assert quotas["label2"] > quotas["label0"] and quotas["label3"] > quotas["label1"]
    tiny = spread_quotas(points, np.asarray(labels, dtype=object), 2)
    assert sum(tiny.values()) == 2 and max(tiny.values()) == 1


def test_spread_quotas_never_exceed_a_labels_rows():
    from engine.select.methods.labelled import spread_quotas

    points, labels = _labelled_blobs(spreads=(0.01, 0.9), rows=10)
    labels = np.asarray(labels[:3] + labels[10:], dtype=object)  # label0 keeps 3 rows
    quotas = spread_quotas(np.concatenate([points[:3], points[10:]]), labels, 12)
    assert quotas["label0"] <= 3 and sum(quotas.values()) == 12


def test_spread_kmeans_picks_the_typical_row_of_each_label_at_one_per_label():
    points, labels = _labelled_blobs()
    chosen = run_method("spread-kmeans", MethodInput(points, 4, seed=0, labels=labels)).indices
    label_array = np.asarray(labels)
    assert sorted(label_array[chosen].tolist()) == ["label0", "label1", "label2", "label3"]
    for row in chosen:  # the member nearest its label's centre
        members = np.flatnonzero(label_array == label_array[row])
        centre = points[members].mean(axis=0)
        nearest = members[np.argmin(np.linalg.norm(points[members] - centre, axis=1))]
        assert row == nearest


def test_kmeans_balanced_spreads_labels_among_the_picks():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(3, 8)) * 3
    points = np.concatenate([c + 0.01 * rng.normal(size=(30, 8)) for c in base])
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    labels = [("a" if i % 2 else "b") for i in range(90)]  # two labels mixed in every blob
    chosen = run_method("kmeans-balanced", MethodInput(points, 2, seed=0, labels=labels)).indices
    assert sorted(np.asarray(labels)[chosen].tolist()) == ["a", "b"]


def test_probe_confidence_is_low_for_a_row_that_sits_in_another_label():
    from engine.select.methods.labelled import probe_confidence

    points, labels = _labelled_blobs(spreads=(0.05, 0.05), rows=30)
    labels = np.asarray(labels, dtype=object)
    labels[0] = "label1"  # a label0 point marked label1
    confidence = probe_confidence(points, labels, seed=0)
    assert confidence[0] < 0.5 < float(np.median(confidence))


def test_labelled_methods_need_labels(data):
    points = data[0]
    for name in ("kmeans-balanced", "spread-kmeans", "probe-mix"):
        assert get_method(name).needs_labels
        with pytest.raises(ValueError, match="needs labelled records"):
            run_method(name, MethodInput(points, 5))
