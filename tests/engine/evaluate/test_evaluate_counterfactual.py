"""Counterfactual probes and group re-weighting."""

import pytest

from engine.evaluate.counterfactual import counterfactual_probe, group_weights, swap_terms


def test_swap_terms_both_ways_whole_words_keeping_case():
    assert swap_terms("He said his wife called. Mandate unchanged.") == \
        "She said her husband called. Mandate unchanged."
    assert swap_terms("A 40-year-old woman and her son") == "A 40-year-old man and his daughter"


def test_group_weights_by_hand():
    # 3 of group a, 1 of group b: totals per group become equal, mean weight 1
    assert group_weights(["a", "a", "a", "b"]) == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0])
    assert group_weights([]) == []


def test_counterfactual_probe_on_a_model(tiny_llama_folder):
    from engine.models.loading import load_causal_lm, load_tokenizer

    model, tokenizer = load_causal_lm(tiny_llama_folder), load_tokenizer(tiny_llama_folder)
    result = counterfactual_probe(model, tokenizer, ["Should he rest?", "Is it red?",
                                                     "A woman has a fever."], max_new_tokens=6)
    assert result["probed"] == 2
    assert 0.0 <= result["changed"] <= 1.0 and 0.0 <= result["similarity"] <= 100.0
    assert all(e["swapped"] != e["prompt"] for e in result["examples"])
    assert counterfactual_probe(model, tokenizer, ["Is it red?"])["probed"] == 0
