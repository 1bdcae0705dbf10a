"""clean(): normalisation, length limits and exact duplicates, with counts per step."""

import pytest

from engine.data.clean import STEPS, clean
from engine.data.readers import read_jsonl


def _rec(line, prompt, response="Take it with food."):
    return {"prompt": prompt, "response": response, "_line": line}


def test_exact_duplicates_and_long_records_are_dropped_with_counts():
    records = [
        _rec(1, "How do I take metformin?"),
        _rec(2, "How do I  take Metformin?\n"),  # same after normalisation and casefold
        _rec(3, "How do I take metformin?"),
        _rec(4, "Tell me " + "more " * 20),
        _rec(5, "What is\u00a0asthma?"),
        _rec(6, "Is this a different question?"),
    ]
    result = clean(records, "instruction", max_words=12)
    assert [r["_line"] for r in result.kept] == [1, 5, 6]
    assert result.counts == {"normalised": 3, "too_short": 0, "too_long": 1, "exact_duplicate": 2}
    assert set(result.counts) == set(STEPS)
    steps = {d.record["_line"]: (d.step, d.reason) for d in result.dropped}
    assert steps[2] == ("exact_duplicate", "same content as line 1")
    assert steps[4] == ("too_long", "26 words, above the limit of 12")
    assert result.kept[1]["prompt"] == "What is asthma?"
    assert records[1]["prompt"] == "How do I  take Metformin?\n"  # input untouched


def test_first_occurrence_wins_and_long_duplicates_count_as_long():
    records = [_rec(1, "word " * 30), _rec(2, "word " * 30), _rec(3, "short"), _rec(4, "short")]
    result = clean(records, "instruction", max_words=10)
    assert result.counts["too_long"] == 2 and result.counts["exact_duplicate"] == 1
    assert [r["_line"] for r in result.kept] == [3]


def test_too_short_counts_text_fields_only():
    records = [{"text": "ok", "label": "a b c d e"}, {"text": "one two three", "label": "x"}]
    result = clean(records, "classification", min_words=2)
    assert result.counts["too_short"] == 1 and result.kept == [records[1]]
    assert result.dropped[0].reason == "1 word, below the minimum of 2"


def test_same_text_with_other_label_is_not_a_duplicate():
    records = [{"text": "Pay in 30 days.", "label": "payment_terms"}, {"text": "Pay in 30 days.", "label": "other"}]
    assert len(clean(records, "classification").kept) == 2


def test_bad_arguments_and_records_are_refused():
    with pytest.raises(ValueError, match="min_words <= max_words"):
        clean([], "text", max_words=1, min_words=5)
    with pytest.raises(ValueError, match="unknown task"):
        clean([{"text": "a"}], "nope")
    with pytest.raises(ValueError, match="line 7, field 'response': expected text, got NoneType"):
        clean([{"prompt": "a", "response": None, "_line": 7}], "instruction")


def test_cleaning_the_demo_file_finds_at_least_the_injected_faults(tmp_path):
    from engine.data.demo_clinical import write_clinical

    path = tmp_path / "clinical.jsonl"
    stats = write_clinical(path, n=600, seed=1)
    result = clean(read_jsonl(path, "instruction").records, "instruction", max_words=1000)
    assert result.counts["too_long"] == stats.over_long
    assert stats.exact_duplicates <= result.counts["exact_duplicate"] <= stats.exact_duplicates + stats.near_duplicates
