"""Fairness numbers: by hand on a fixture, and equal to fairlearn's own functions."""

import pytest

from engine.data.groups import record_groups
from engine.evaluate.fairness import classifier_fairness, score_fairness

Y_TRUE = [1, 1, 0, 0, 1, 1, 0, 0]
Y_PRED = [1, 0, 0, 1, 1, 1, 1, 1]
GROUPS = ["a", "a", "a", "a", "b", "b", "b", "b"]


def test_classifier_fairness_by_hand_and_against_fairlearn():
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    result = classifier_fairness(Y_TRUE, Y_PRED, GROUPS)
    a, b = result["by_group"]["a"], result["by_group"]["b"]
    # a: TPR 1/2, FPR 1/2, selection 2/4, accuracy 2/4; b: TPR 2/2, FPR 2/2, selection 4/4
    assert (a["tpr"], a["fpr"], a["selection_rate"], a["accuracy"]) == (0.5, 0.5, 0.5, 0.5)
    assert (b["tpr"], b["fpr"], b["selection_rate"], b["accuracy"]) == (1.0, 1.0, 1.0, 0.5)
    assert a["count"] == 4
    assert result["demographic_parity_difference"] == pytest.approx(0.5)
    assert result["equal_opportunity_difference"] == pytest.approx(0.5)
    assert result["equalized_odds_difference"] == pytest.approx(0.5)
    assert result["accuracy_difference"] == pytest.approx(0.0)
    assert result["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(Y_TRUE, Y_PRED, sensitive_features=GROUPS))
    assert result["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(Y_TRUE, Y_PRED, sensitive_features=GROUPS))


def test_string_labels_use_the_positive_label():
    truth = ["sick" if y else "well" for y in Y_TRUE]
    predicted = ["sick" if y else "well" for y in Y_PRED]
    assert classifier_fairness(truth, predicted, GROUPS, pos_label="sick") == \
        classifier_fairness(Y_TRUE, Y_PRED, GROUPS)


def test_score_fairness_means_and_gap():
    result = score_fairness({"rougeL": [1.0, 0.5, 0.0, 0.25]}, ["x", "x", "y", "y"])
    assert result["by_group"] == {"x": {"rougeL": 0.75, "count": 2},
                                  "y": {"rougeL": 0.125, "count": 2}}
    assert result["difference"]["rougeL"] == pytest.approx(0.625)


def test_record_groups_from_field_or_function():
    records = [{"kind": "triage", "_line": 3}, {"kind": "discharge"}]
    assert record_groups(records, "kind") == ["triage", "discharge"]
    assert record_groups(records, lambda r: r["kind"][0]) == ["t", "d"]
    with pytest.raises(ValueError, match="record 0 \\(line 3\\): field 'sex'"):
        record_groups(records, "sex")
