"""Every metric against values computed by hand on small fixtures."""

from __future__ import annotations

import pytest

from engine.evaluate.exact_match import exact_match, normalise_answer
from engine.evaluate.text_overlap import bleu, chrf, rouge
from engine.metrics.classification import (
    classification_scores,
    expected_calibration_error,
    label_likelihood_predict,
)


def test_classification_scores_by_hand():
    scores = classification_scores(list("aabbc"), list("abbba"))
    assert scores["accuracy"] == pytest.approx(0.6)
    assert scores["per_class"]["a"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert scores["per_class"]["b"] == pytest.approx(
        {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert scores["per_class"]["c"] == pytest.approx(
        {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1})
    assert scores["macro"] == pytest.approx(
        {"precision": (0.5 + 2 / 3) / 3, "recall": 0.5, "f1": 1.3 / 3})
    assert scores["micro"] == pytest.approx({"precision": 0.6, "recall": 0.6, "f1": 0.6})
    assert scores["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_classification_rejects_bad_input():
    with pytest.raises(ValueError, match="2 reference labels but 1"):
        classification_scores(["a", "b"], ["a"])


def test_expected_calibration_error_by_hand():
    # bins 0.9: |1.8 - 1|/4, 0.6: |0.6 - 1|/4, 0.3: |0.3 - 0|/4
    assert expected_calibration_error([0.9, 0.9, 0.6, 0.3], [1, 0, 1, 0]) == \
        pytest.approx(0.2 + 0.1 + 0.075)
    with pytest.raises(ValueError, match="outside"):
        expected_calibration_error([1.2], [1])


def test_bleu_by_hand():
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100)
    # precisions 3/4, 2/3, 1/2 and a smoothed 1/(2*1) for the 4-gram; no brevity penalty
    expected = 100 * (0.75 * (2 / 3) * 0.5 * 0.5) ** 0.25
    assert bleu(["a b c d"], ["a b c e"]) == pytest.approx(expected, abs=1e-6)


def test_chrf_by_hand():
    assert chrf(["same words"], ["same words"]) == pytest.approx(100)
    assert chrf(["xyz"], ["abc"]) == pytest.approx(0)
    # character unigrams only: precision 1/2, recall 1/2 -> F = 1/2
    assert chrf(["ab"], ["ac"], char_order=1) == pytest.approx(50)


def test_rouge_by_hand():
    scores = rouge(["the cat on the mat"], ["the cat sat on the mat"])
    assert scores["rouge1"] == pytest.approx(10 / 11)  # P = 5/5, R = 5/6
    assert scores["rouge2"] == pytest.approx(2 / 3)    # P = 3/4, R = 3/5
    assert scores["rougeL"] == pytest.approx(10 / 11)  # LCS = 5 words


def test_rouge_keeps_non_ascii_words():
    # the default rouge-score tokenizer drops Cyrillic entirely
    assert rouge(["лечение"], ["лечение боли"])["rouge1"] == pytest.approx(2 / 3)
    assert rouge(["Müller café"], ["müller café"])["rouge1"] == pytest.approx(1.0)


def test_exact_match_normalises():
    assert normalise_answer("  The  Answer: Paris! ") == "answer paris"
    assert exact_match(["Paris.", "the cat", "ｆｕｌｌ"], ["paris", "A cat", "full"]) == 1.0
    assert exact_match(["Lyon", "Paris"], ["Paris", "Paris"]) == 0.5
    with pytest.raises(ValueError, match="no outputs"):
        exact_match([], [])


def test_label_likelihood_picks_the_most_likely_label(tiny_llama_folder):
    from engine.models.loading import load_causal_lm, load_tokenizer
    from engine.train.format import collate, encode_record, token_nll

    model, tokenizer = load_causal_lm(tiny_llama_folder), load_tokenizer(tiny_llama_folder)
    labels = ["yes", "no", "maybe"]
    predicted, confidence = label_likelihood_predict(model, tokenizer, ["Is it red?"], labels)
    nll = []
    for label in labels:
        batch = collate([encode_record(tokenizer, {"prompt": "Is it red?", "response": label})],
                        tokenizer.pad_token_id)
        logits = model(input_ids=batch["input_ids"]).logits.detach()
        nll.append(float(token_nll(logits, batch["labels"])[0]))
    assert predicted == [labels[nll.index(min(nll))]]
    assert 1 / 3 <= confidence[0] <= 1.0
