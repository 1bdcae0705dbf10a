"""Pages of a dataset version's records for browsing: no full load, filters, full-text search.

Pages are keyset pages over ``records.id`` (a version's records get increasing ids in
position order, so id order is position order within a version): each page starts after
the last id of the previous one and stops at ``limit`` rows, so the first page of a
1,000,000-record version costs the same as that of a 100-record one. Search uses the
``records_fts`` index (schema v7, kept in step by triggers; a building version's
records are indexed by their writer, a batch at a time, schema v10), restricted to the version's
id range so it also stops at ``limit`` matches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Sequence

import sqlite_utils

FLAGS = {
    "all": "every record",
    "changed": "changed by cleaning (differs from its source record)",
    "removed": "removed by cleaning (not kept in the cleaned version)",
    "placeholder": "holds a redaction placeholder such as [NAME]",
}
COUNT_CAP = 10_000
# the characters of a record's free text: its text fields and chat turns (as record_text)
TEXT_LENGTH = ("(SELECT coalesce(sum(length(value)), 0) FROM json_tree(r.data) WHERE type = "
               "'text' AND key IN ('prompt', 'response', 'system', 'text', 'text_pair', "
               "'content'))")
_WORD = re.compile(r"\w+", re.UNICODE)
# what the index holds of a record: its text values, no JSON keys, no chat roles (schema v7)
INDEXED_TEXT = ("(SELECT group_concat(value, ' ') FROM json_tree({row}.data) "
                "WHERE type = 'text' AND key IS NOT 'role')")


@dataclass(frozen=True)
class RecordFilter:
    """What the browser narrows a version to; the defaults keep every record.

    Attributes:
        text: words that must all occur (full-text search; punctuation ignored).
        label: the record's ``label`` must equal this.
        min_chars, max_chars: bounds on the characters of the record's text.
        flag: one of :data:`FLAGS`.
    """

    text: str = ""
    label: str | None = None
    min_chars: int | None = None
    max_chars: int | None = None
    flag: str = "all"

    def __post_init__(self) -> None:
        if self.flag not in FLAGS:
            raise ValueError(f"flag {self.flag!r} is not one of {', '.join(FLAGS)}")

    def is_empty(self) -> bool:
        """True when nothing is filtered out."""
        return self == RecordFilter()


@dataclass
class RecordRow:
    """One record of a page: its id, position, source line, decoded data and hash."""

    id: int
    position: int
    line: int | None
    data: dict
    content_hash: str


def fts_query(text: str) -> str | None:
    """A safe FTS5 query from what a user typed: every word as a quoted term (all must
    occur), the last one also matching as a prefix; None when there is no word."""
    words = _WORD.findall(text)
    if not words:
        return None
    terms = [f'"{word}"' for word in words]
    terms[-1] += "*"
    return " ".join(terms)


def id_range(db: sqlite_utils.Database, dataset_id: int) -> tuple[int, int] | None:
    """The first and last record id of a version (None when it has no record)."""
    first = db.execute("SELECT id FROM records WHERE dataset_id = ? ORDER BY position LIMIT 1",
                       [dataset_id]).fetchone()
    last = db.execute("SELECT id FROM records WHERE dataset_id = ? ORDER BY position DESC "
                      "LIMIT 1", [dataset_id]).fetchone()
    return (first[0], last[0]) if first else None


def _related(db: sqlite_utils.Database, dataset_id: int) -> tuple[int | None, int | None]:
    """(parent id, newest cleaned child id) of a version."""
    parent = db.execute("SELECT parent_id FROM datasets WHERE id = ?", [dataset_id]).fetchone()
    child = db.execute("SELECT id FROM datasets WHERE parent_id = ? AND kind = 'clean' AND "
                       "state = 'published' ORDER BY id DESC LIMIT 1", [dataset_id]).fetchone()
    return (parent[0] if parent else None), (child[0] if child else None)


def flag_available(db: sqlite_utils.Database, dataset_id: int, flag: str) -> bool:
    """Whether a cleaning flag means something for a version ("changed" needs a parent,
    "removed" a cleaned child)."""
    parent, child = _related(db, dataset_id)
    return {"changed": parent is not None, "removed": child is not None}.get(flag, True)


def _conditions(db: sqlite_utils.Database, dataset_id: int,
                flt: RecordFilter) -> tuple[list[str], list]:
    where, args = ["r.dataset_id = ?"], [dataset_id]
    if flt.label is not None:
        where.append("json_extract(r.data, '$.label') = ?")
        args.append(flt.label)
    if flt.min_chars is not None:
        where.append(f"{TEXT_LENGTH} >= ?")
        args.append(flt.min_chars)
    if flt.max_chars is not None:
        where.append(f"{TEXT_LENGTH} <= ?")
        args.append(flt.max_chars)
    parent, child = _related(db, dataset_id)
    if flt.flag == "changed":
        where.append("EXISTS (SELECT 1 FROM records p WHERE p.dataset_id = ? AND "
                     "p.line = r.line AND p.content_hash != r.content_hash)")
        args.append(parent if parent is not None else -1)
    elif flt.flag == "removed":
        where.append("r.line IS NOT NULL AND NOT EXISTS (SELECT 1 FROM records c WHERE "
                     "c.dataset_id = ? AND c.line = r.line)")
        args.append(child if child is not None else -1)
    elif flt.flag == "placeholder":
        where.append("r.data GLOB '*[[][A-Z]*[]]*'")
    return where, args


def _rows(cursor_rows: Sequence[tuple]) -> list[RecordRow]:
    return [RecordRow(row[0], row[1], row[2], json.loads(row[3]), row[4]) for row in cursor_rows]


def page(db: sqlite_utils.Database, dataset_id: int, flt: RecordFilter = RecordFilter(),
         after_id: int = 0, limit: int = 200) -> list[RecordRow]:
    """Up to ``limit`` records of a version that pass ``flt``, in position order, after the
    record ``after_id`` (0: from the start).

    Raises:
        ValueError: on an unknown flag (from :class:`RecordFilter`).
    """
    where, args = _conditions(db, dataset_id, flt)
    columns = "r.id, r.position, r.line, r.data, r.content_hash"
    query = fts_query(flt.text)
    if query is None:
        sql = (f"SELECT {columns} FROM records r WHERE {' AND '.join(where)} AND r.position > "
               "coalesce((SELECT position FROM records WHERE id = ?), -1) "
               "ORDER BY r.position LIMIT ?")
        return _rows(db.execute(sql, [*args, after_id, limit]).fetchall())
    span = id_range(db, dataset_id)
    if span is None:
        return []
    sql = (f"SELECT {columns} FROM records_fts f JOIN records r ON r.id = f.rowid "
           f"WHERE records_fts MATCH ? AND f.rowid > ? AND f.rowid <= ? AND {' AND '.join(where)} "
           "ORDER BY f.rowid LIMIT ?")
    return _rows(db.execute(sql, [query, max(after_id, span[0] - 1), span[1], *args,
                                  limit]).fetchall())


def count(db: sqlite_utils.Database, dataset_id: int, flt: RecordFilter = RecordFilter(),
          cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many records pass ``flt``, counted up to ``cap``.

    Returns:
        ``(count, exact)``; ``exact`` is False when there are more than ``cap``.
    """
    if flt.is_empty():
        row = db.execute("SELECT record_count FROM datasets WHERE id = ?", [dataset_id]).fetchone()
        return (row[0] if row else 0), True
    found = len(page(db, dataset_id, flt, 0, cap + 1))
    return min(found, cap), found <= cap


def labels(db: sqlite_utils.Database, dataset_id: int, limit: int = 100) -> list[str]:
    """The distinct labels of a version (classification data), sorted; [] when none."""
    rows = db.execute("SELECT DISTINCT json_extract(data, '$.label') AS label FROM records "
                      "WHERE dataset_id = ? AND label IS NOT NULL LIMIT ?",
                      [dataset_id, limit]).fetchall()
    return sorted(str(row[0]) for row in rows)


def source_record(db: sqlite_utils.Database, dataset_id: int, line: int | None) -> dict | None:
    """The record of a version's parent with the same source line (what cleaning started
    from), or None."""
    parent, _ = _related(db, dataset_id)
    if parent is None or line is None:
        return None
    row = db.execute("SELECT data FROM records WHERE dataset_id = ? AND line = ? LIMIT 1",
                     [parent, line]).fetchone()
    return json.loads(row[0]) if row else None


def quarantine_page(db: sqlite_utils.Database, dataset_id: int, after_id: int = 0,
                    limit: int = 200) -> list[dict]:
    """Quarantined (bad) lines kept beside a version: file, line, field, reason, raw."""
    columns = ("id", "file", "line", "field", "reason", "raw")
    rows = db.execute(f"SELECT {', '.join(columns)} FROM quarantine WHERE dataset_id = ? AND "
                      "id > ? ORDER BY id LIMIT ?", [dataset_id, after_id, limit]).fetchall()
    return [dict(zip(columns, row)) for row in rows]
