"""Task schemas, record errors and the content hash of a record.

A task names the fields every record of a data set must carry as non-empty
strings. Other keys are kept as they are; keys starting with ``_`` belong to
Enclave (``_line`` is the source line of a record).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TASK_FIELDS: dict[str, tuple[str, ...]] = {
    "instruction": ("prompt", "response"),
    "classification": ("text", "label"),
    "text": ("text",),
}
LABEL_FIELDS = frozenset({"label"})


@dataclass
class RawRow:
    """One row as the file holds it.

    Attributes:
        line: Where it starts: a line (text files, JSON arrays) or a row (Parquet), 1-based.
        value: The row: a dict for JSON, CSV and Parquet; ``{"text": ...}`` for plain text.
        unit: What ``line`` counts.
        item: Its number in a JSON array (several items may share a line), else None.
    """

    line: int
    value: Any
    unit: str = "line"
    item: int | None = None


@dataclass(frozen=True)
class RecordError:
    """One problem with one record: where it is and what is wrong.

    Attributes:
        file: Path of the source file as given.
        line: 1-based line number in the file.
        field: Field at fault, or None when the line as a whole is wrong (broken JSON).
        message: What is wrong, in a few words.
        unit: What ``line`` counts: "line" (text files, JSON arrays) or "row" (Parquet).
        raw: The offending text as read, when there is one (kept with the quarantine).
        item: The record's number in a JSON array (several may share a line), else None.
    """

    file: str
    line: int
    field: str | None
    message: str
    unit: str = "line"
    raw: str = field(default="", compare=False, repr=False)
    item: int | None = None

    def __str__(self) -> str:
        where = f"{Path(self.file).name}, {self.unit} {self.line}"
        if self.item is not None:
            where += f" (item {self.item})"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


class DataFormatError(Exception):
    """A file that cannot be read at all from some line on (e.g. not UTF-8 text).

    Attributes:
        file: Path of the file as given.
        line: 1-based line where reading failed.
        message: What is wrong and how to fix it.
    """

    def __init__(self, file: str | Path, line: int, message: str) -> None:
        self.file, self.line, self.message = str(file), line, message
        super().__init__(f"{Path(self.file).name}, line {line}: {message}")


def task_fields(task: str) -> tuple[str, ...]:
    """Required fields of a task.

    Args:
        task: One of ``TASK_FIELDS``.

    Returns:
        The field names, in order.

    Raises:
        ValueError: If the task is unknown.
    """
    try:
        return TASK_FIELDS[task]
    except KeyError:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASK_FIELDS)}") from None


def text_fields(task: str) -> tuple[str, ...]:
    """Required fields of a task that hold free text (labels excluded)."""
    return tuple(f for f in task_fields(task) if f not in LABEL_FIELDS)


def normalise_text(text: str) -> str:
    """Unicode NFC, whitespace runs collapsed to one space, ends stripped."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def field_problem(record: dict, field: str) -> str | None:
    """Why a required field is unusable, or None when it is a non-empty string."""
    if field not in record:
        return "missing"
    value = record[field]
    if value is None:
        return "empty (null)"
    if not isinstance(value, str):
        return f"expected text, got {type(value).__name__}"
    if not value.strip():
        return "empty"
    return None


def content_hash(record: dict, task: str) -> str:
    """SHA-256 of a record's task fields, normalised (NFC, whitespace, casefold).

    Two records with the same hash are duplicates for training; ids and other
    keys do not count.

    Args:
        record: A record holding every field of the task as a string.
        task: One of ``TASK_FIELDS``.

    Returns:
        The hex digest.

    Raises:
        ValueError: If the task is unknown or a field is missing or not text.
    """
    digest = hashlib.sha256()
    if task == "instruction" and "prompt" not in record and isinstance(record.get("messages"), list):
        for message in record["messages"]:
            digest.update(f"{message.get('role')}\x00".encode())
            digest.update(normalise_text(str(message.get("content", ""))).casefold().encode())
            digest.update(b"\x00")
        return digest.hexdigest()
    for name in task_fields(task):
        value = record.get(name)
        if not isinstance(value, str):
            raise ValueError(f"record has no text in field {name!r}")
        digest.update(name.encode())
        digest.update(b"\x00")
        digest.update(normalise_text(value).casefold().encode())
        digest.update(b"\x00")
    return digest.hexdigest()
