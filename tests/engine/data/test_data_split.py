"""hold_out(): deterministic, disjoint, stratified."""

from collections import Counter

import pytest

from engine.data.split import hold_out


def _records(counts):
    records = []
    for label, count in counts.items():
        records += [{"text": f"{label} {i}", "label": label} for i in range(count)]
    return records


def test_same_seed_same_split_other_seed_other_split():
    records = _records({"a": 50, "b": 30})
    assert hold_out(records, 0.2, seed=1) == hold_out(records, 0.2, seed=1)
    assert hold_out(records, 0.2, seed=1) != hold_out(records, 0.2, seed=2)


def test_parts_are_disjoint_complete_and_in_input_order():
    records = _records({"a": 40, "b": 25, "c": 10})
    train, test = hold_out(records, 0.25, seed=0, label_key="label")
    texts = [r["text"] for r in records]
    assert sorted(r["text"] for r in train + test) == sorted(texts)
    assert not {r["text"] for r in train} & {r["text"] for r in test}
    assert [r["text"] for r in test] == [t for t in texts if t in {r["text"] for r in test}]


def test_stratified_split_keeps_the_label_mix():
    records = _records({"a": 100, "b": 40, "c": 20, "rare": 2, "single": 1})
    train, test = hold_out(records, 0.2, seed=3, label_key="label")
    assert Counter(r["label"] for r in test) == {"a": 20, "b": 8, "c": 4, "rare": 1}
    assert Counter(r["label"] for r in train)["rare"] == 1
    assert Counter(r["label"] for r in train)["single"] == 1


def test_plain_split_size():
    train, test = hold_out(_records({"a": 100}), 0.1, seed=0)
    assert (len(train), len(test)) == (90, 10)
    assert hold_out([], 0.1, seed=0) == ([], [])


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        hold_out(_records({"a": 3}), 1.0, seed=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        hold_out(_records({"a": 3}), 0, seed=0)
    with pytest.raises(ValueError, match=r"record 1 \(line 5\) has no label field 'label'"):
        hold_out([{"text": "a", "label": "x"}, {"text": "b", "_line": 5}], 0.5, seed=0, label_key="label")
