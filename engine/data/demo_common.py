"""Shared pieces of the seeded demo data sets: fake identifiers and export mess.

Everything here is invented from a seeded ``random.Random``; no real person's
data is used. Phone numbers use the fictional 555-01xx range.

The demo writers build clean records first, then :func:`render_lines` turns
them into JSONL lines with the faults real exports have: exact and near
duplicates, empty or missing fields, truncated JSON lines and over-long
records, at the rates below. Names, months and word swaps live in
``resources/demo/common_terms.json``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.resources import demo_terms

EXACT_DUPLICATE_RATE = 0.05
NEAR_DUPLICATE_RATE = 0.05
INCOMPLETE_RATE = 0.03
BROKEN_JSON_RATE = 0.01
OVER_LONG_RATE = 0.01
OVER_LONG_MIN_WORDS = 4100

PII_KEY = "_has_identifier"

_TERMS = demo_terms("common_terms")
FIRST_NAMES = _TERMS["first_names"]
LAST_NAMES = _TERMS["last_names"]
MONTHS = _TERMS["months"]
_SYNONYMS = dict(_TERMS["synonyms"])


@dataclass
class DemoStats:
    """What a demo writer put into its file.

    Attributes:
        lines: Lines written, broken ones included.
        valid: Lines that parse and carry every field non-empty.
        exact_duplicates: Copies with the same content as an earlier record (new id).
        near_duplicates: Copies with one small edit (punctuation, whitespace or a word).
        empty_fields: Records with a required field empty, blank or null.
        missing_fields: Records with a required field absent.
        broken_json: Lines truncated so that they are not valid JSON.
        over_long: Records with a field longer than 4,000 words.
        with_identifiers: Records whose text carries a fake name, MRN, phone, date or case number.
    """

    lines: int = 0
    valid: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    empty_fields: int = 0
    missing_fields: int = 0
    broken_json: int = 0
    over_long: int = 0
    with_identifiers: int = 0


def fake_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def fake_mrn(rng: random.Random) -> str:
    return f"MRN {rng.randint(1_000_000, 9_999_999)}"


def fake_phone(rng: random.Random) -> str:
    return f"(555) 01{rng.randint(0, 9)}-{rng.randint(0, 9999):04d}"


def fake_date(rng: random.Random) -> str:
    year, month, day = rng.randint(2015, 2024), rng.randint(1, 12), rng.randint(1, 28)
    if rng.random() < 0.5:
        return f"{month:02d}/{day:02d}/{year}"
    return f"{MONTHS[month - 1]} {day}, {year}"


def fake_birth_date(rng: random.Random) -> str:
    return f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1935, 2005)}"


def fake_case_number(rng: random.Random) -> str:
    district, year = rng.randint(1, 9), rng.randint(10, 24)
    kind = rng.choice(("cv", "cv", "cv", "bk", "cr"))
    return f"Case No. {district}:{year}-{kind}-{rng.randint(100, 99999):05d}"


def long_text(rng: random.Random, sentence: Callable[[random.Random], str]) -> str:
    """Join generated sentences until the text passes ``OVER_LONG_MIN_WORDS`` words."""
    target = OVER_LONG_MIN_WORDS + rng.randint(0, 600)
    parts: list[str] = []
    words = 0
    while words < target:
        part = sentence(rng)
        parts.append(part)
        words += len(part.split())
    return " ".join(parts)


def near_duplicate_text(text: str, rng: random.Random) -> str:
    """One small edit: punctuation, whitespace or one word changed."""
    words = text.split(" ")
    edit = rng.choice(("punctuation", "whitespace", "word"))
    if edit == "punctuation":
        return text[:-1] if text.endswith((".", "?", "!")) else text + "."
    if edit == "whitespace":
        at = rng.randrange(len(words))
        return " ".join(words[:at] + [""] + words[at:]) + rng.choice((" ", "\n", "  "))
    swappable = [i for i, w in enumerate(words) if w.lower() in _SYNONYMS]
    if swappable:
        at = rng.choice(swappable)
        words[at] = _SYNONYMS[words[at].lower()]
    else:
        words.insert(rng.randrange(len(words) + 1), rng.choice(("also", "now", "then")))
    return " ".join(words)


@dataclass
class _Line:
    record: dict
    broken: bool = False


def render_lines(
    base: list[dict],
    n: int,
    rng: random.Random,
    fields: tuple[str, ...],
    long_field: str,
    long_sentence: Callable[[random.Random], str],
    id_prefix: str,
) -> tuple[list[str], DemoStats]:
    """Turn clean records into ``n`` JSONL lines with export faults injected.

    Args:
        base: Clean records, ``n - exact - near duplicates`` of them (see :func:`unique_count`).
        n: Lines to produce.
        rng: Seeded random source.
        fields: Required fields; the text ones get near-duplicate edits.
        long_field: Field that over-long records grow.
        long_sentence: Makes one filler sentence for over-long text.
        id_prefix: Prefix of the record ids, e.g. ``"clin"``.

    Returns:
        The lines (without newlines) and what was injected.
    """
    stats = DemoStats(lines=n)
    plan = _plan(n)
    faulty = rng.sample(range(len(base)), plan["incomplete"] + plan["broken"] + plan["long"])
    incomplete = faulty[: plan["incomplete"]]
    broken = set(faulty[plan["incomplete"]: plan["incomplete"] + plan["broken"]])
    for i in incomplete:
        _blank_field(base[i], rng.choice(fields), rng, stats)
    for i in faulty[plan["incomplete"] + plan["broken"]:]:
        base[i][long_field] += " " + long_text(rng, long_sentence)
        stats.over_long += 1
    faulty_set = set(faulty)
    clean = [i for i in range(len(base)) if i not in faulty_set]
    copies = [_Line(dict(base[rng.choice(clean)])) for _ in range(plan["exact"])]
    for _ in range(plan["near"]):
        record = dict(base[rng.choice(clean)])
        field = rng.choice([f for f in fields if f != "label"])
        record[field] = near_duplicate_text(record[field], rng)
        copies.append(_Line(record))
    stats.exact_duplicates, stats.near_duplicates, stats.broken_json = plan["exact"], plan["near"], len(broken)
    lines = [_Line(r, i in broken) for i, r in enumerate(base)] + copies
    rng.shuffle(lines)
    rendered = [_render(line, f"{id_prefix}-{k + 1:06d}", rng, stats, fields) for k, line in enumerate(lines)]
    return rendered, stats


def unique_count(n: int) -> int:
    """How many clean base records :func:`render_lines` needs for ``n`` lines."""
    plan = _plan(n)
    return n - plan["exact"] - plan["near"]


def write_lines(path: Path, lines: list[str]) -> None:
    """Write lines as UTF-8 text, through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(path)


def _plan(n: int) -> dict[str, int]:
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return {
        "exact": round(n * EXACT_DUPLICATE_RATE),
        "near": round(n * NEAR_DUPLICATE_RATE),
        "incomplete": round(n * INCOMPLETE_RATE),
        "broken": round(n * BROKEN_JSON_RATE),
        "long": round(n * OVER_LONG_RATE),
    }


def _blank_field(record: dict, field: str, rng: random.Random, stats: DemoStats) -> None:
    mode = rng.choice(("empty", "blank", "null", "missing"))
    if mode == "missing":
        del record[field]
        stats.missing_fields += 1
    else:
        record[field] = {"empty": "", "blank": "  \t ", "null": None}[mode]
        stats.empty_fields += 1


def _render(line: _Line, record_id: str, rng: random.Random, stats: DemoStats, fields: tuple[str, ...]) -> str:
    record = {"id": record_id, **{k: v for k, v in line.record.items() if k != PII_KEY}}
    text = json.dumps(record, ensure_ascii=False)
    if line.broken:
        return text[: rng.randint(len(text) // 4, len(text) - 2)]
    if line.record.get(PII_KEY):
        stats.with_identifiers += 1
    if all(isinstance(record.get(f), str) and record[f].strip() for f in fields):
        stats.valid += 1
    return text
