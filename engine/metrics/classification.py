"""Classification scores: accuracy, precision, recall, F1, confusion matrix, calibration.

Generative models used as classifiers are scored by constrained label likelihood
(:func:`label_likelihood_predict`): each allowed label is scored as the answer to the
prompt and the most likely one wins, so the model can never answer outside the labels.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from engine.train.format import collate, encode_record


def classification_scores(y_true: Sequence[str], y_pred: Sequence[str],
                          labels: Sequence[str] | None = None) -> dict:
    """Accuracy; macro, micro and per-class precision, recall and F1; confusion matrix.

    Args:
        y_true: the reference labels.
        y_pred: the predicted labels, same length.
        labels: label order of the per-class scores and the matrix (sorted union by default).

    Returns:
        ``{"accuracy", "macro": {precision, recall, f1}, "micro": {...},
        "per_class": {label: {precision, recall, f1, support}}, "labels",
        "confusion_matrix"}`` (rows are true labels, columns predicted).

    Raises:
        ValueError: when the sequences differ in length or are empty.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} reference labels but {len(y_pred)} predictions")
    if not y_true:
        raise ValueError("no labels to score")
    labels = list(labels) if labels is not None else sorted(set(y_true) | set(y_pred))
    scores: dict[str, Any] = {"accuracy": float(accuracy_score(y_true, y_pred)),
                              "labels": labels}
    for average in ("macro", "micro"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0)
        scores[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                 average=None, zero_division=0)
    scores["per_class"] = {label: {"precision": float(p[i]), "recall": float(r[i]),
                                   "f1": float(f[i]), "support": int(s[i])}
                           for i, label in enumerate(labels)}
    scores["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return scores


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool],
                               bins: int = 10) -> float:
    """Expected calibration error: the support-weighted gap between confidence and accuracy.

    Confidences fall into ``bins`` equal-width bins over (0, 1]; the bin of ``c`` is
    ``ceil(c * bins) - 1`` (0 goes to the first bin).

    Raises:
        ValueError: on mismatched lengths, no item, or a confidence outside [0, 1].
    """
    if len(confidences) != len(correct) or not confidences:
        raise ValueError("confidences and correct must be non-empty and of equal length")
    totals = [[0, 0.0, 0.0] for _ in range(bins)]  # count, summed confidence, summed correct
    for confidence, hit in zip(confidences, correct):
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence {confidence} is outside [0, 1]")
        index = max(math.ceil(confidence * bins) - 1, 0)
        totals[index][0] += 1
        totals[index][1] += confidence
        totals[index][2] += float(hit)
    n = len(confidences)
    return sum(abs(conf - hits) / n for count, conf, hits in totals if count)


def label_likelihood_predict(model: Any, tokenizer: Any, prompts: Sequence[str],
                             labels: Sequence[str], max_length: int = 256
                             ) -> tuple[list[str], list[float]]:
    """Predict one of ``labels`` per prompt by the model's likelihood of each label as answer.

    The score of a label is the summed log-probability of its answer tokens (encoded with the
    training chat template); the probabilities over labels are a softmax of those scores.

    Returns:
        ``(predicted labels, probability of the predicted label)`` per prompt.
    """
    import torch


    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id
    device = model.get_input_embeddings().weight.device
    predictions, confidences = [], []
    model.eval()
    with torch.inference_mode():
        for index, prompt in enumerate(prompts):
            batch = [encode_record(tokenizer, {"prompt": prompt, "response": label},
                                   max_length, where=f"prompt {index}") for label in labels]
            inputs = collate(batch, pad_id)
            logits = model(input_ids=inputs["input_ids"].to(device),
                           attention_mask=inputs["attention_mask"].to(device)).logits
            scores = _summed_logprob(logits.float(), inputs["labels"].to(device))
            probabilities = torch.softmax(scores, dim=0)
            best = int(torch.argmax(scores))
            predictions.append(labels[best])
            confidences.append(float(probabilities[best]))
    return predictions, confidences


def _summed_logprob(logits: Any, labels: Any) -> Any:
    import torch
    import torch.nn.functional as functional

    shifted = functional.pad(labels, (0, 1), value=-100)[:, 1:]
    mask = shifted != -100
    logprobs = torch.log_softmax(logits, dim=-1)
    picked = logprobs.gather(-1, shifted.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(dim=1)
