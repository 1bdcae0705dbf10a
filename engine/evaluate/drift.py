"""Data drift between the training data and new data, with a verdict and its drivers.

Three checks, each with a p-value or an effect size:

- embeddings: a classifier two-sample test on MiniLM sentence embeddings. A logistic
  regression learns to tell reference from new texts; its out-of-fold scores give an AUC and
  a one-sided Mann-Whitney p-value (AUC = U / (n_ref * n_new)). An AUC near 0.5 means the
  two sets cannot be told apart. The new texts it is surest about are the drivers.
- length: two-sample Kolmogorov-Smirnov test and population stability index (PSI) on words
  per record.
- labels: PSI of a categorical field (``label``, ``kind``, ...) when both sets carry it.

Drift is declared when a test is significant *and* its effect is large enough to matter
(AUC >= 0.65, KS statistic >= 0.2, PSI >= 0.2), so that big sets do not flag trivia.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from engine.progress import Reporter, null_reporter

ALPHA = 0.01
MIN_AUC = 0.65
MIN_KS = 0.2
MIN_PSI = 0.2


@dataclass
class DriftResult:
    """What :func:`detect_drift` found."""

    drifted: bool
    reasons: list[str]
    embedding: dict
    length: dict
    labels: dict | None = None
    drivers: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)


def record_text(record: dict) -> str:
    """The text a record contributes: prompt and response, messages, or text."""
    if isinstance(record.get("messages"), list):
        return "\n".join(str(m.get("content", "")) for m in record["messages"])
    parts = [record[key] for key in ("prompt", "response", "text") if isinstance(record.get(key), str)]
    return "\n".join(parts)


def psi(reference: Sequence[Any], new: Sequence[Any], bins: int | None = 10) -> float:
    """Population stability index; numeric values use reference-quantile bins, others
    their categories (``bins=None``). Empty bins get a count of 0.5."""
    if bins is None:
        categories = sorted(set(map(str, reference)) | set(map(str, new)))
        ref_counts = np.array([sum(str(v) == c for v in reference) for c in categories], float)
        new_counts = np.array([sum(str(v) == c for v in new) for c in categories], float)
    else:
        edges = np.unique(np.quantile(np.asarray(reference, float), np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        ref_counts = np.histogram(reference, edges)[0].astype(float)
        new_counts = np.histogram(new, edges)[0].astype(float)
    ref_share = np.maximum(ref_counts, 0.5) / max(ref_counts.sum(), 1)
    new_share = np.maximum(new_counts, 0.5) / max(new_counts.sum(), 1)
    return float(np.sum((new_share - ref_share) * np.log(new_share / ref_share)))


def classifier_two_sample_test(reference: np.ndarray, new: np.ndarray, seed: int = 0,
                               folds: int = 5) -> tuple[float, float, np.ndarray]:
    """Can a classifier tell ``new`` rows from ``reference`` rows?

    Returns:
        ``(auc, one-sided p-value, out-of-fold probability of "new" for each new row)``.
    """
    from scipy.stats import mannwhitneyu
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    features = np.vstack([reference, new])
    target = np.r_[np.zeros(len(reference)), np.ones(len(new))]
    folds = max(2, min(folds, len(reference), len(new)))
    scores = cross_val_predict(LogisticRegression(C=1.0, max_iter=1000), features, target,
                               cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                               method="predict_proba")[:, 1]
    new_scores, ref_scores = scores[len(reference):], scores[:len(reference)]
    test = mannwhitneyu(new_scores, ref_scores, alternative="greater")
    auc = float(test.statistic) / (len(new_scores) * len(ref_scores))
    return auc, float(test.pvalue), new_scores


def _length_check(ref_texts: list[str], new_texts: list[str]) -> dict:
    from scipy.stats import ks_2samp

    ref_len = [len(t.split()) for t in ref_texts]
    new_len = [len(t.split()) for t in new_texts]
    test = ks_2samp(ref_len, new_len)
    return {"ks": float(test.statistic), "p_value": float(test.pvalue),
            "psi": psi(ref_len, new_len), "mean_reference": float(np.mean(ref_len)),
            "mean_new": float(np.mean(new_len))}


def _label_check(reference: list[dict], new: list[dict], label_field: str | None) -> dict | None:
    if not label_field or not all(label_field in r for r in [*reference, *new]):
        return None
    ref_labels = [str(r[label_field]) for r in reference]
    new_labels = [str(r[label_field]) for r in new]
    share = {name: {label: values.count(label) / len(values) for label in sorted(set(values))}
             for name, values in (("reference", ref_labels), ("new", new_labels))}
    return {"field": label_field, "psi": psi(ref_labels, new_labels, bins=None), **share}


def _sample(records: list[dict], limit: int, seed: int) -> list[dict]:
    if len(records) <= limit:
        return list(records)
    rng = np.random.default_rng(seed)
    return [records[i] for i in sorted(rng.choice(len(records), limit, replace=False))]


def detect_drift(reference: list[dict], new: list[dict], *, label_field: str | None = "label",
                 embed: Any = None, max_records: int = 1000, seed: int = 0,
                 reporter: Reporter | None = None) -> DriftResult:
    """Compare new records with reference (training) records.

    Args:
        reference: the training records.
        new: the records that arrived since.
        label_field: categorical field compared when both sets carry it.
        embed: ``texts -> (n, d) array``; the bundled MiniLM by default.
        max_records: each set is sampled down to this many records (seeded).
        seed: seed of sampling and of the folds.
        reporter: progress of the embedding step.

    Returns:
        The verdict, the three checks and the five new records that drive the shift.

    Raises:
        ValueError: when a set has fewer than 5 records.
    """
    if len(reference) < 5 or len(new) < 5:
        raise ValueError(f"drift needs at least 5 records per set; got {len(reference)} "
                         f"reference and {len(new)} new")
    reporter = reporter or null_reporter()
    reference, new = _sample(reference, max_records, seed), _sample(new, max_records, seed + 1)
    ref_texts, new_texts = [record_text(r) for r in reference], [record_text(r) for r in new]
    if embed is None:
        from engine.models.encoder import embed_texts

        def embed(texts):
            return embed_texts(texts, reporter=reporter.for_stage("embed"))
    vectors = np.asarray(embed(ref_texts + new_texts), dtype=np.float32)
    auc, p_value, new_scores = classifier_two_sample_test(
        vectors[:len(ref_texts)], vectors[len(ref_texts):], seed)
    embedding = {"auc": auc, "p_value": p_value, "reference": len(ref_texts),
                 "new": len(new_texts)}
    length = _length_check(ref_texts, new_texts)
    labels = _label_check(reference, new, label_field)
    reasons = _reasons(embedding, length, labels)
    top = np.argsort(-new_scores)[:5]
    drivers = [{"index": int(i), "score": float(new_scores[i]), "text": new_texts[i][:300]}
               for i in top]
    return DriftResult(bool(reasons), reasons, embedding, length, labels,
                       drivers if reasons else [])


def _reasons(embedding: dict, length: dict, labels: dict | None) -> list[str]:
    reasons = []
    if embedding["p_value"] < ALPHA and embedding["auc"] >= MIN_AUC:
        reasons.append(f"content shifted: a classifier tells new from training texts "
                       f"(AUC {embedding['auc']:.2f}, p={embedding['p_value']:.1e})")
    if length["p_value"] < ALPHA and (length["ks"] >= MIN_KS or length["psi"] >= MIN_PSI):
        reasons.append(f"length shifted: {length['mean_reference']:.0f} → "
                       f"{length['mean_new']:.0f} words (KS {length['ks']:.2f}, "
                       f"PSI {length['psi']:.2f})")
    if labels is not None and labels["psi"] >= MIN_PSI:
        reasons.append(f"'{labels['field']}' distribution shifted (PSI {labels['psi']:.2f})")
    return reasons


def model_drift(previous: float, current: float, metric: str = "perplexity",
                tolerance: float = 0.2) -> dict:
    """Whether a model's metric on new data fell by more than ``tolerance`` (relative).

    For perplexity lower is better; for other metrics higher is better.
    """
    if metric == "perplexity":
        change = current / previous - 1 if previous > 0 else math.inf
    else:
        change = 1 - current / previous if previous > 0 else 0.0
    return {"metric": metric, "previous": previous, "current": current,
            "relative_worsening": change, "drifted": change > tolerance}
