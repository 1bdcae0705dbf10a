"""Whether the first row of a table names its columns or is already data.

EHR and spreadsheet exports often come without a header row. A first row is
taken for data when its cells look like the values below them: numbers or dates
in a column, long or multi-line text, or a value that recurs further down the
same column (a label). Cells that name a known field ("text", "label",
"prompt"...) or short words above a column of numbers or long text vote for a
header. Without a header, columns are numbered from 1.
"""

from __future__ import annotations

import re
from statistics import median

NO_HEADER_NOTE = "no header found: columns are numbered"
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d+)*|\d*[.,]\d+)\s*%?\s*$")
_DATE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?)?\s*$")
_KNOWN = {"text", "label", "labels", "prompt", "response", "question", "answer", "input", "output",
          "instruction", "id", "class", "category", "note", "notes", "body", "content", "target",
          "summary", "document", "sentence", "title", "name", "date", "source", "system"}
LONG = 64


def numbered(count: int) -> list[str]:
    """Column names of a table without a header: "1", "2", ..."""
    return [str(i) for i in range(1, count + 1)]


def first_row_is_data(first: list[str], body: list[list[str]]) -> bool:
    """True when the first row looks like data rather than column names.

    Args:
        first: The first row's cells.
        body: Some of the rows below it (cells as text).

    Returns:
        True when more cells vote for data than for a header.
    """
    data = header = 0
    for index, cell in enumerate(first):
        column = [row[index] for row in body if index < len(row) and row[index].strip()]
        vote = _vote(cell, column)
        data += vote > 0
        header += vote < 0
    return data > header


def _vote(cell: str, column: list[str]) -> int:
    """+1 when a first-row cell looks like data, -1 like a column name, 0 when unclear."""
    text = cell.strip()
    if not text:
        return 0
    if text.lower().replace("_", " ").replace("-", " ") in _KNOWN or text.lower() in _KNOWN:
        return -1
    if _is_value(text) or len(text) > LONG or "\n" in text or text in column:
        return 1
    if column and (sum(map(_is_value, column)) > len(column) / 2
                   or median(len(c) for c in column) > LONG):
        return -1
    return 0


def _is_value(text: str) -> bool:
    return bool(_NUMBER.match(text) or _DATE.match(text))
