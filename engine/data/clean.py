"""Cleaning steps: normalise text, drop records of the wrong length, drop exact duplicates.

Steps run in that order. Each dropped record is kept with the step that
dropped it and a reason a person can read, so the quality report can show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.data.records import content_hash, normalise_text, task_fields, text_fields

STEPS = ("normalised", "too_short", "too_long", "exact_duplicate")


@dataclass
class DroppedRecord:
    """A record a cleaning step removed.

    Attributes:
        record: The record after normalisation.
        reason: Why, for a person (e.g. "1,204 words, above the limit of 1,000").
        step: The step that dropped it: "too_short", "too_long" or "exact_duplicate".
    """

    record: dict
    reason: str
    step: str


@dataclass
class CleanResult:
    """Records kept, records dropped, and a count per step.

    Attributes:
        kept: Normalised records, in input order.
        dropped: Dropped records, in the order they were dropped.
        counts: For every name in ``STEPS``: records changed ("normalised") or dropped by that step.
    """

    kept: list[dict] = field(default_factory=list)
    dropped: list[DroppedRecord] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STEPS, 0))


def clean(records: list[dict], task: str, *, max_words: int = 1000, min_words: int = 1) -> CleanResult:
    """Normalise the task fields, drop too short/long records, drop exact duplicates.

    Words are counted over the text fields of the task (a label is not text),
    split on whitespace. Duplicates are found by :func:`content_hash`; the
    first occurrence is kept. Input records are not changed.

    Args:
        records: Validated records (e.g. ``read_jsonl(...).records``).
        task: One of ``engine.data.records.TASK_FIELDS``.
        max_words: Records with more words are dropped.
        min_words: Records with fewer words are dropped.

    Returns:
        What was kept, what was dropped and why, and counts per step.

    Raises:
        ValueError: If the task is unknown, the limits are inconsistent, or a
            record lacks a task field as text.
    """
    if min_words < 0 or max_words < min_words:
        raise ValueError(f"need 0 <= min_words <= max_words, got min_words={min_words}, max_words={max_words}")
    result = CleanResult()
    first_seen: dict[str, dict] = {}
    for record in records:
        normalised = _normalise(record, task)
        result.counts["normalised"] += normalised != record
        dropped = _length_check(normalised, task, min_words, max_words) or _duplicate_check(
            normalised, task, first_seen)
        if dropped:
            result.dropped.append(dropped)
            result.counts[dropped.step] += 1
        else:
            result.kept.append(normalised)
    return result


def _normalise(record: dict, task: str) -> dict:
    copy = dict(record)
    for name in task_fields(task):
        value = record.get(name)
        if not isinstance(value, str):
            raise ValueError(f"{_where(record)}field {name!r}: expected text, got {type(value).__name__}")
        copy[name] = normalise_text(value)
    return copy


def _length_check(record: dict, task: str, min_words: int, max_words: int) -> DroppedRecord | None:
    words = sum(len(record[name].split()) for name in text_fields(task))
    counted = f"{words:,} word" + ("" if words == 1 else "s")
    if words > max_words:
        return DroppedRecord(record, f"{counted}, above the limit of {max_words:,}", "too_long")
    if words < min_words:
        return DroppedRecord(record, f"{counted}, below the minimum of {min_words:,}", "too_short")
    return None


def _duplicate_check(record: dict, task: str, first_seen: dict[str, dict]) -> DroppedRecord | None:
    key = content_hash(record, task)
    original = first_seen.setdefault(key, record)
    if original is record:
        return None
    earlier = f"line {original['_line']}" if "_line" in original else "an earlier record"
    return DroppedRecord(record, f"same content as {earlier}", "exact_duplicate")


def _where(record: dict) -> str:
    return f"line {record['_line']}, " if "_line" in record else ""
