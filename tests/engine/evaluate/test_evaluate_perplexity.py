"""Perplexity on answer tokens: consistent with its NLL, lower after training."""

from __future__ import annotations

import math

import pytest

from engine.metrics.perplexity import perplexity
from engine.progress import Cancelled, Reporter
from engine.train.format import encode_records


def _load(folder):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    return model, AutoTokenizer.from_pretrained(folder, local_files_only=True)


def test_perplexity_is_exp_of_mean_nll_over_answer_tokens(tiny_llama_folder, tiny_records):
    model, tokenizer = _load(tiny_llama_folder)
    events = []
    result = perplexity(model, tokenizer, tiny_records, max_length=64, batch_size=8,
                        reporter=Reporter(events.append))

    assert result.ppl == pytest.approx(math.exp(result.mean_nll), rel=1e-9)
    answer_tokens = sum(e.trained_tokens for e in encode_records(tokenizer, tiny_records, 64))
    assert result.tokens == answer_tokens
    assert [event.step for event in events] == [1, 2, 3, 4, 5]
    # a random model over a ~49k vocabulary is close to uniform
    assert 9.0 < result.mean_nll < 12.0


def test_batch_size_does_not_change_the_score(tiny_llama_folder, tiny_records):
    model, tokenizer = _load(tiny_llama_folder)
    one = perplexity(model, tokenizer, tiny_records[:10], batch_size=1)
    many = perplexity(model, tokenizer, tiny_records[:10], batch_size=10)
    assert one.mean_nll == pytest.approx(many.mean_nll, abs=1e-4)
    assert one.tokens == many.tokens


def test_tuned_adapter_lowers_perplexity_on_its_training_records(tuned_tiny, tiny_records):
    from peft import PeftModel

    base, tokenizer = _load(tuned_tiny["base"])
    before = perplexity(base, tokenizer, tiny_records, max_length=64)
    tuned = PeftModel.from_pretrained(base, str(tuned_tiny["adapter"]))
    after = perplexity(tuned, tokenizer, tiny_records, max_length=64)

    assert after.tokens == before.tokens
    assert after.ppl < before.ppl


def test_eight_bit_model_is_scored_as_loaded(tiny_llama_folder, tiny_records):
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    model = AutoModelForCausalLM.from_pretrained(
        tiny_llama_folder, local_files_only=True,
        quantization_config=BitsAndBytesConfig(load_in_8bit=True))
    _, tokenizer = _load(tiny_llama_folder)
    result = perplexity(model, tokenizer, tiny_records[:8], max_length=64)
    assert math.isfinite(result.mean_nll) and result.tokens > 0


def test_cancel_and_bad_input(tiny_llama_folder, tiny_records):
    model, tokenizer = _load(tiny_llama_folder)
    with pytest.raises(Cancelled):
        perplexity(model, tokenizer, tiny_records, reporter=Reporter(stop_requested=lambda: True))
    with pytest.raises(ValueError, match="record 1: field 'response'"):
        perplexity(model, tokenizer, [tiny_records[0], {"prompt": "x"}])
