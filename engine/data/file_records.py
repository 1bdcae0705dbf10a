"""A file's valid records and its errors, read through the importer's one path (format
detection, table header, column mapping, field checks) without storing anything: for test
files and drift checks the user brings, and for benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.data.formats import iter_rows
from engine.data.importer import preview_file
from engine.data.mapping import map_row
from engine.data.records import RawRow, RecordError


@dataclass
class FileRecords:
    """Valid records (each with its source line under ``_line``) and one error per bad row."""

    records: list[dict] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    def first_problem(self) -> str:
        """'N bad records; first: FILE line L, field F: ...' for a refusal message."""
        return f"{len(self.errors)} bad records; first: {self.errors[0]}"


def read_records(path: str | Path, task: str, *, fmt: str | None = None,
                 mapping: dict[str, str] | None = None, header: bool | None = None,
                 sheet: str | None = None) -> FileRecords:
    """Read every row of a file (any format the importer reads) as records of ``task``.

    Raises:
        FileNotFoundError, DataFormatError: when the file cannot be read at all.
        ValueError: for an unknown task or format.
    """
    path = Path(path)
    preview = preview_file(path, task, fmt, mapping=mapping, header=header, sheet=sheet)
    result = FileRecords()
    for row in iter_rows(path, preview.container, preview.encoding or None, preview.header,
                         sheet):
        if not isinstance(row, RawRow):
            result.errors.append(row)
            continue
        record, errors = map_row(row.value, preview.mapping, preview.task, str(path), row.line,
                                 row.unit, row.item)
        if record is None:
            result.errors.extend(errors[:1])
        else:
            result.records.append(record)
    return result
