"""Chat-template encoding: the loss falls on exactly the assistant answers."""

from __future__ import annotations

import pytest

from engine.train.format import (
    IGNORE_INDEX,
    collate,
    encode_record,
    encode_records,
    length_sorted_batches,
)


def _trained_text(tokenizer, example) -> list[str]:
    """Decode each contiguous run of labelled positions."""
    runs, current = [], []
    for label in example.labels:
        if label == IGNORE_INDEX:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(label)
    if current:
        runs.append(current)
    return [tokenizer.decode(run) for run in runs]


def test_prompt_response_masks_exactly_the_response(smollm2_tokenizer):
    record = {"prompt": "What is the capital of France?", "response": "Paris, of course."}
    example = encode_record(smollm2_tokenizer, record)

    assert len(example.input_ids) == len(example.labels)
    assert _trained_text(smollm2_tokenizer, example) == ["Paris, of course.<|im_end|>"]
    labelled = [i for i, label in enumerate(example.labels) if label != IGNORE_INDEX]
    assert [example.input_ids[i] for i in labelled] == [example.labels[i] for i in labelled]


def test_template_default_system_prompt_is_kept_but_not_trained(smollm2_tokenizer):
    example = encode_record(smollm2_tokenizer, {"prompt": "Hi", "response": "Hello"})
    text = smollm2_tokenizer.decode(example.input_ids)
    assert text.startswith("<|im_start|>system\n")
    assert _trained_text(smollm2_tokenizer, example) == ["Hello<|im_end|>"]


def test_record_system_field_replaces_the_default(smollm2_tokenizer):
    record = {"system": "You answer tersely.", "prompt": "Hi", "response": "Hello"}
    text = smollm2_tokenizer.decode(encode_record(smollm2_tokenizer, record).input_ids)
    assert "You answer tersely." in text and "SmolLM" not in text


def test_multi_turn_masks_every_assistant_turn(smollm2_tokenizer):
    record = {"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another one?"},
        {"role": "assistant", "content": "Green."},
    ]}
    example = encode_record(smollm2_tokenizer, record)
    assert _trained_text(smollm2_tokenizer, example) == ["Blue.<|im_end|>", "Green.<|im_end|>"]


def test_truncation_cuts_the_end(smollm2_tokenizer):
    record = {"prompt": "Tell me a story.", "response": "once upon a time " * 50}
    full = encode_record(smollm2_tokenizer, record, max_length=4096)
    cut = encode_record(smollm2_tokenizer, record, max_length=40)

    assert len(full.input_ids) > 40
    assert cut.input_ids == full.input_ids[:40] and cut.labels == full.labels[:40]
    assert 0 < cut.trained_tokens < full.trained_tokens


def test_records_without_answer_tokens_after_truncation_are_dropped(smollm2_tokenizer):
    long_prompt = {"prompt": "word " * 200, "response": "ok"}
    short = {"prompt": "Hi", "response": "Hello"}
    assert len(encode_records(smollm2_tokenizer, [long_prompt, short], max_length=64)) == 1
    with pytest.raises(ValueError, match="none of the 1 records"):
        encode_records(smollm2_tokenizer, [long_prompt], max_length=64)


@pytest.mark.parametrize("record, message", [
    ({"prompt": "Hi"}, "record 0: field 'response' must be a string"),
    ({"prompt": 3, "response": "x"}, "record 0: field 'prompt' must be a string"),
    ({"messages": []}, "record 0: field 'messages' must be a non-empty list"),
    ({"messages": [{"role": "user", "content": "Hi"}]}, "record 0: no assistant turn"),
    ({"messages": [{"role": "bot", "content": "Hi"}]}, r"record 0: messages\[0\]: field 'role'"),
    ({"messages": [{"role": "user"}]}, r"record 0: messages\[0\]: field 'content'"),
])
def test_malformed_records_name_the_record_and_field(smollm2_tokenizer, record, message):
    with pytest.raises(ValueError, match=message):
        encode_records(smollm2_tokenizer, [record])


def test_collate_pads_right(smollm2_tokenizer):
    examples = [encode_record(smollm2_tokenizer, {"prompt": "Hi", "response": "Hello"}),
                encode_record(smollm2_tokenizer, {"prompt": "Hi there, how are you?",
                                                  "response": "Very well, thank you."})]
    batch = collate(examples, pad_id=smollm2_tokenizer.pad_token_id)
    short = len(examples[0].input_ids)

    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    assert batch["input_ids"].shape[1] == len(examples[1].input_ids)
    assert batch["attention_mask"][0, :short].all() and not batch["attention_mask"][0, short:].any()
    assert (batch["labels"][0, short:] == IGNORE_INDEX).all()
    assert (batch["input_ids"][0, short:] == smollm2_tokenizer.pad_token_id).all()


def test_length_sorted_batches_cover_every_example_once_and_repeat_per_seed(smollm2_tokenizer):
    records = [{"prompt": "x " * n, "response": "y"} for n in range(1, 12)]
    examples = encode_records(smollm2_tokenizer, records)
    batches = length_sorted_batches(examples, batch_size=3, seed=5)

    assert sorted(id(e) for b in batches for e in b) == sorted(id(e) for e in examples)
    assert all(len(b) <= 3 for b in batches)
    again = length_sorted_batches(examples, batch_size=3, seed=5)
    assert [[id(e) for e in b] for b in batches] == [[id(e) for e in b] for b in again]
