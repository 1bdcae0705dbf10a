"""Classification checks: unknown and rare labels, imbalance, likely mislabelled records.

Nothing here removes a record: the findings are shown for review.
"""

from __future__ import annotations

from collections import Counter

from engine.models.encoder import embed_texts
from engine.progress import Reporter


def label_findings(labels: list[str], allowed: set[str], min_count: int) -> dict:
    """Label counts and what looks wrong with them.

    Args:
        labels: The label of each kept record.
        allowed: The known labels (empty: every label is known).
        min_count: Labels with fewer records are rare.

    Returns:
        ``{"counts", "unknown", "rare", "imbalance_ratio"}`` (ratio of the most to the least
        frequent label; 1.0 is balanced).
    """
    counts = Counter(labels)
    unknown = sorted(label for label in counts if allowed and label not in allowed)
    rare = sorted(label for label, n in counts.items() if n < min_count)
    ratio = max(counts.values()) / min(counts.values()) if counts else 1.0
    return {"counts": dict(counts.most_common()), "unknown": unknown, "rare": rare,
            "imbalance_ratio": round(ratio, 2)}


def likely_mislabelled(texts: list[str], labels: list[str], seed: int = 0,
                       reporter: Reporter | None = None) -> list[dict]:
    """Records whose label disagrees with what their neighbours suggest.

    Embeds the texts with the bundled MiniLM, fits a logistic-regression probe with
    cross-validation (out-of-fold probabilities), and asks cleanlab which labels are
    likely wrong.

    Args:
        texts: Record texts.
        labels: Their labels (at least two labels with two records each).
        seed: Seed of the folds.
        reporter: Progress of the embedding.

    Returns:
        ``[{"index", "label", "suggested", "confidence"}]`` by decreasing doubt.
    """
    import numpy as np
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict


    counts = Counter(labels)
    usable = [i for i, label in enumerate(labels) if counts[label] >= 2]
    names = sorted({labels[i] for i in usable})
    if len(names) < 2:
        return []
    folds = min(5, min(counts[n] for n in names))
    vectors = embed_texts([texts[i] for i in usable], reporter=reporter)
    y = np.array([names.index(labels[i]) for i in usable])
    probe = LogisticRegression(max_iter=1000)
    probabilities = cross_val_predict(probe, vectors, y, method="predict_proba",
                                      cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    issues = find_label_issues(y, probabilities, return_indices_ranked_by="self_confidence")
    return [{"index": usable[i], "label": names[y[i]], "suggested": names[int(probabilities[i].argmax())],
             "confidence": round(float(probabilities[i].max()), 3)} for i in issues]
