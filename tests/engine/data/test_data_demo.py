"""The seeded demo sets: deterministic, big enough, and messy in every planned way."""

import json
import random
import re

import pytest

from engine.data.demo_clinical import write_clinical
from engine.data.demo_common import OVER_LONG_MIN_WORDS
from engine.data.demo_legal import LABEL_WEIGHTS, write_legal


def _parse(path):
    parsed, broken = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            broken += 1
    return parsed, broken


@pytest.fixture(scope="module")
def clinical(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "clinical.jsonl"
    return path, write_clinical(path)


@pytest.fixture(scope="module")
def legal(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "legal.jsonl"
    return path, write_legal(path)


@pytest.mark.parametrize("write", [write_clinical, write_legal])
def test_same_seed_same_file_other_seed_other_file(tmp_path, write):
    write(tmp_path / "a.jsonl", n=300, seed=7)
    write(tmp_path / "b.jsonl", n=300, seed=7)
    write(tmp_path / "c.jsonl", n=300, seed=8)
    a = (tmp_path / "a.jsonl").read_bytes()
    assert a == (tmp_path / "b.jsonl").read_bytes()
    assert a != (tmp_path / "c.jsonl").read_bytes()
    assert not list(tmp_path.glob("*.tmp"))


def test_clinical_size_and_injected_mess(clinical):
    path, stats = clinical
    parsed, broken = _parse(path)
    assert stats.lines == 2400 == len(parsed) + broken
    assert broken == stats.broken_json == 24
    assert stats.exact_duplicates == 120 and stats.near_duplicates == 120
    assert stats.empty_fields + stats.missing_fields == 72 and stats.missing_fields > 0 and stats.empty_fields > 0
    assert stats.over_long == 24
    long_records = [r for r in parsed if len(str(r.get("response")).split()) > OVER_LONG_MIN_WORDS - 100]
    assert len(long_records) == 24
    assert {r.get("kind") for r in parsed} == {"patient_question", "discharge", "triage"}
    missing = sum(1 for r in parsed if "prompt" not in r or "response" not in r)
    assert missing == stats.missing_fields
    assert len({r["id"] for r in parsed}) == len(parsed)


def test_clinical_text_has_fake_identifiers_and_typical_length(clinical):
    path, stats = clinical
    text = path.read_text(encoding="utf-8")
    assert re.search(r"MRN \d{7}", text) and re.search(r"\(555\) 01\d-\d{4}", text)
    assert re.search(r"\d{2}/\d{2}/\d{4}", text)
    assert 0.15 * 2400 < stats.with_identifiers < 0.35 * 2400
    parsed, _ = _parse(path)
    lengths = sorted(len(r["response"].split()) for r in parsed
                     if isinstance(r.get("response"), str) and r["response"].strip())
    median = lengths[len(lengths) // 2]
    assert 30 <= lengths[len(lengths) // 10] and median <= 120


def test_legal_size_labels_imbalanced_and_mess(legal):
    path, stats = legal
    parsed, broken = _parse(path)
    assert stats.lines == 1200 == len(parsed) + broken and broken == stats.broken_json == 12
    assert stats.exact_duplicates == 60 and stats.near_duplicates == 60 and stats.over_long == 12
    counts = {}
    for r in parsed:
        if isinstance(r.get("label"), str) and r["label"].strip():
            counts[r["label"]] = counts.get(r["label"], 0) + 1
    assert set(counts) == set(LABEL_WEIGHTS)
    assert max(counts.values()) > 1.8 * min(counts.values())
    assert re.search(r"Case No\. \d:\d{2}-(cv|bk|cr)-\d{5}", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("write", [write_clinical, write_legal])
def test_bad_size_is_refused(tmp_path, write):
    with pytest.raises(ValueError, match="n must be at least 1"):
        write(tmp_path / "x.jsonl", n=0)


def _share_with_foreign_sentence(path) -> float:
    from engine.data.demo_legal import _ROLES, _TEMPLATES

    openings = {label: {s[:24] for a, b in _ROLES for s in fn(random.Random(0), a, b)}
                for label, fn in _TEMPLATES.items()}
    records = [r for r in _parse(path)[0] if isinstance(r.get("text"), str) and r.get("label")]
    foreign = sum(any(opening in r["text"] for other, starts in openings.items()
                      if other != r["label"] for opening in starts) for r in records)
    return foreign / len(records)


def test_mixed_legal_clauses_carry_a_sentence_of_another_type(tmp_path):
    plain, mixed = tmp_path / "plain.jsonl", tmp_path / "mixed.jsonl"
    write_legal(plain, n=300, seed=3)
    write_legal(mixed, n=300, seed=3, mixed_rate=1.0)
    assert _share_with_foreign_sentence(plain) < 0.1
    assert _share_with_foreign_sentence(mixed) > 0.9


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_mixed_rate_outside_0_1_is_refused(tmp_path, rate):
    with pytest.raises(ValueError, match="mixed_rate"):
        write_legal(tmp_path / "x.jsonl", n=10, mixed_rate=rate)
    assert not list(tmp_path.iterdir())
