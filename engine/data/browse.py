"""What the dataset browser shows: record texts as the project may show them, what
cleaning changed in a record, and the quarantine as a CSV file.

Privacy: in a project that redacts, every text the browser shows passes through the
project's display redactor (:func:`engine.data.privacy.project_redactor`), the raw import
included: the rule that nothing Enclave shows holds a raw identifier has no exception here,
and whoever needs the raw text has the file they imported. Full-text search is refused
in a version whose stored text was never redacted (the import, its splits): a hit count
for a typed name would tell whether that person is in the data even when every shown
text is redacted. Search the cleaned version instead.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from engine.data.privacy import REDACTING_MODES, project_redactor, redact_value
from engine.data.text_fix import map_texts, record_text
from engine.store import datasets, record_search
from engine.store.record_search import RecordFilter, RecordRow

PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*\]")
PREVIEW_CHARS = 160


@dataclass
class ShownRow:
    """One row of the browser's table: what it shows, redacted when the project redacts."""

    id: int
    position: int
    line: int | None
    preview: str
    label: str
    chars: int


def version_redacted(db: sqlite_utils.Database, dataset_id: int) -> bool:
    """Whether a version's stored text went through a redacting clean (it, or one of its
    ancestors, is the output of a clean that replaced identifiers)."""
    for row in datasets.lineage(db, dataset_id):
        recipe = json.loads(row.get("recipe") or "{}")
        if row["kind"] == "clean" and (recipe.get("clean") or {}).get("redaction") \
                in REDACTING_MODES:
            return True
    return False


def search_refusal(db: sqlite_utils.Database, project_id: int, dataset_id: int) -> str | None:
    """Why full-text search is not offered in a version (None: it is)."""
    if project_redactor(db, project_id) is None or version_redacted(db, dataset_id):
        return None
    return ("Search is off in this version: it holds the text as imported, before "
            "identifiers were removed. Search the cleaned version instead.")


class Shower:
    """Makes records of one project safe to show (the identity when it does not redact)."""

    def __init__(self, db: sqlite_utils.Database, project_id: int | None) -> None:
        self._redactor = project_redactor(db, project_id)

    @property
    def redacts(self) -> bool:
        """Whether the project redacts."""
        return self._redactor is not None

    def text(self, text: str) -> str:
        """A text as it may be shown."""
        return self._redactor(text) if self._redactor else text

    def record(self, record: dict) -> dict:
        """A record with every text field and chat turn as it may be shown."""
        return map_texts(record, self._redactor) if self._redactor else record

    def row(self, row: RecordRow) -> ShownRow:
        """A table row for a record."""
        text = record_text(row.data)
        shown = " ".join(self.text(text).split())
        if len(shown) > PREVIEW_CHARS:
            shown = shown[:PREVIEW_CHARS - 1] + "…"
        label = row.data.get("label")
        return ShownRow(row.id, row.position, row.line, shown,
                        "" if label is None else str(label), len(text))

    def raw(self, value: object) -> object:
        """A raw quarantined value (any JSON shape) as it may be shown."""
        return redact_value(value, self._redactor) if self._redactor else value


@dataclass
class RecordChange:
    """A record as the browser's record view shows it."""

    fields: dict
    before: str | None  # the source record's text (None: no source version)
    after: str
    placeholders: list[str]
    changed: bool  # the stored text differs from the source record's


def record_change(db: sqlite_utils.Database, shower: Shower, dataset_id: int,
                  row: RecordRow) -> RecordChange:
    """A record with the text of the record it was cleaned from (same source line in the
    parent version), both as they may be shown, and the placeholders cleaning put in."""
    source = record_search.source_record(db, dataset_id, row.line)
    after = shower.text(record_text(row.data))
    before = shower.text(record_text(source)) if source is not None else None
    return RecordChange(fields=shower.raw(row.data),
                        before=before, after=after,
                        placeholders=sorted(set(PLACEHOLDER.findall(record_text(row.data)))),
                        changed=source is not None and record_text(source) != record_text(row.data))


def export_quarantine_csv(db: sqlite_utils.Database, project_id: int, dataset_id: int,
                          path: Path) -> int:
    """Write a version's quarantined lines (file, line, field, reason, raw) to a CSV file,
    raw values redacted when the project redacts.

    Returns:
        The number of rows written.
    """
    shower = Shower(db, project_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file", "line", "field", "reason", "raw"])
    written, after = 0, 0
    while True:
        rows = record_search.quarantine_page(db, dataset_id, after, 2000)
        if not rows:
            break
        for row in rows:
            writer.writerow([Path(row["file"] or "").name, row["line"], row["field"],
                             shower.text(row["reason"] or ""), shower_raw(shower, row["raw"])])
        written += len(rows)
        after = rows[-1]["id"]
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    os.replace(partial, path)
    return written


def shower_raw(shower: Shower, raw: str | None) -> str:
    """A quarantined raw line as it may be shown (JSON kept as JSON)."""
    if not raw:
        return ""
    try:
        return json.dumps(shower.raw(json.loads(raw)), ensure_ascii=False)
    except ValueError:
        return shower.text(raw)


__all__ = ["RecordFilter", "RecordRow", "Shower", "ShownRow", "RecordChange", "record_change",
           "search_refusal", "version_redacted", "export_quarantine_csv"]
