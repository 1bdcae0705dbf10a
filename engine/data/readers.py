"""Readers that turn a user's file into validated records plus a list of errors.

A reader streams the file line by line; a bad line becomes a
:class:`~engine.data.records.RecordError` and reading goes on. Only a file
that cannot be decoded at all raises :class:`~engine.data.records.DataFormatError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.records import DataFormatError, RecordError, field_problem, task_fields

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass
class ReadResult:
    """Valid records, the errors of the rest, and how many lines were read.

    Attributes:
        records: Valid records, each with its source line under ``"_line"``.
        errors: One entry per problem found; a record may have several.
        lines: Lines in the file, blank ones included.
    """

    records: list[dict] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    lines: int = 0


def read_jsonl(path: Path, task: str) -> ReadResult:
    """Read a JSON Lines file, one record per line, checking the task's fields.

    Blank lines are skipped. A UTF-8 byte order mark at the start is ignored.

    Args:
        path: The file.
        task: One of ``engine.data.records.TASK_FIELDS``; its fields must be non-empty strings.

    Returns:
        The valid records (with ``"_line"``), one error per problem, and the line count.

    Raises:
        ValueError: If the task is unknown.
        FileNotFoundError: If the file does not exist.
        DataFormatError: If a line is not UTF-8 text (e.g. a UTF-16 or Latin-1 file).
    """
    fields = task_fields(task)
    result = ReadResult()
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            result.lines = number
            text = _decode(raw, number, path)
            if not text.strip():
                continue
            record, errors = _parse_line(text, number, str(path), fields)
            result.errors.extend(errors)
            if record is not None:
                result.records.append(record)
    return result


def _decode(raw: bytes, number: int, path: Path) -> str:
    if number == 1:
        if raw.startswith(_UTF16_BOMS):
            raise DataFormatError(path, 1, "the file is UTF-16 text; save it as UTF-8 and import it again")
        if b"\x00" in raw:
            raise DataFormatError(path, 1, "the file holds NUL bytes (binary or UTF-16 without a byte "
                                           "order mark); save it as UTF-8 text")
        if raw.startswith(UTF8_BOM):
            raw = raw[len(UTF8_BOM):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            path, number,
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "save the file as UTF-8 and import it again",
        ) from None


def _parse_line(text: str, number: int, file: str, fields: tuple[str, ...]) -> tuple[dict | None, list]:
    try:
        value = json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        where = "column" if exc.msg.endswith(" at") else "at column"
        return None, [RecordError(file, number, None, f"invalid JSON: {exc.msg} {where} {exc.colno}")]
    if not isinstance(value, dict):
        return None, [RecordError(file, number, None, f"expected a JSON object, got {_json_type(value)}")]
    errors = [RecordError(file, number, f, problem) for f in fields if (problem := field_problem(value, f))]
    if errors:
        return None, errors
    value["_line"] = number
    return value, []


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")
