"""Fairness per group with fairlearn: per-group scores and the gaps between groups.

The group of a record is a field of the record (``"kind"``, ``"sex"``, ...) or a function of
it. For classifiers: per-group accuracy, true and false positive rates and selection rate,
with demographic-parity, equal-opportunity and equalized-odds differences. For generated
text: the per-item scores (ROUGE-L, exact match) averaged per group, and the largest gap.
"""

from __future__ import annotations

from typing import Any, Sequence


def classifier_fairness(y_true: Sequence[Any], y_pred: Sequence[Any], groups: Sequence[str],
                        pos_label: Any = 1) -> dict:
    """Per-group classification metrics and between-group differences (fairlearn).

    Args:
        y_true: reference labels.
        y_pred: predicted labels.
        groups: the group of each item.
        pos_label: the label counted as positive for the rates.

    Returns:
        ``{"by_group": {group: {accuracy, tpr, fpr, selection_rate, count}},
        "demographic_parity_difference", "equal_opportunity_difference",
        "equalized_odds_difference", "accuracy_difference"}``.
    """
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equal_opportunity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    truth = [int(y == pos_label) for y in y_true]
    predicted = [int(y == pos_label) for y in y_pred]
    frame = MetricFrame(metrics={"accuracy": accuracy_score, "tpr": true_positive_rate,
                                 "fpr": false_positive_rate, "selection_rate": selection_rate,
                                 "count": count},
                        y_true=truth, y_pred=predicted, sensitive_features=list(groups))
    by_group = {str(group): {name: float(value) for name, value in row.items()}
                for group, row in frame.by_group.to_dict("index").items()}
    kwargs = {"sensitive_features": list(groups)}
    return {"by_group": by_group,
            "demographic_parity_difference":
                float(demographic_parity_difference(truth, predicted, **kwargs)),
            "equal_opportunity_difference":
                float(equal_opportunity_difference(truth, predicted, **kwargs)),
            "equalized_odds_difference":
                float(equalized_odds_difference(truth, predicted, **kwargs)),
            "accuracy_difference": float(frame.difference()["accuracy"])}


def score_fairness(scores: dict[str, Sequence[float]], groups: Sequence[str]) -> dict:
    """Per-group means of per-item scores of generated text, and the largest gaps.

    Args:
        scores: metric name → one score per item.
        groups: the group of each item.

    Returns:
        ``{"by_group": {group: {metric: mean, "count": n}}, "difference": {metric: max - min}}``.
    """
    from fairlearn.metrics import MetricFrame

    def mean(y_true, y_pred):
        return float(sum(y_true) / len(y_true)) if len(y_true) else 0.0

    def size(y_true, y_pred):
        return len(y_true)

    by_group: dict[str, dict] = {}
    difference = {}
    for name, values in scores.items():
        frame = MetricFrame(metrics={name: mean, "count": size}, y_true=list(values),
                            y_pred=list(values), sensitive_features=list(groups))
        for group, row in frame.by_group.to_dict("index").items():
            by_group.setdefault(str(group), {}).update(
                {name: float(row[name]), "count": int(row["count"])})
        difference[name] = float(frame.difference()[name])
    return {"by_group": by_group, "difference": difference}
