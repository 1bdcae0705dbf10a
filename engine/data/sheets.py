"""Excel workbooks (.xlsx): the rows of one sheet, streamed with openpyxl's read-only mode.

Cells become text as a spreadsheet shows them (whole numbers without ``.0``, dates
as ISO dates), so that a sheet maps onto task fields like a CSV export does. A
header cell left empty after a named one (a merged header spanning columns) takes
the name of the cell before it with its position ("Notes", "Notes (2)"); empty
rows and empty columns beyond the last named one are skipped.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from itertools import chain, islice
from pathlib import Path
from typing import Any, Iterator

from engine.data.header_guess import first_row_is_data, numbered
from engine.data.records import DataFormatError, RawRow, RecordError

LOOKAHEAD = 50


def iter_xlsx(path: Path, sheet: str | None = None,
              header: bool | None = None) -> Iterator[RawRow | RecordError]:
    """Rows of one sheet of a workbook, numbered as the sheet numbers them.

    Args:
        path: The .xlsx file.
        sheet: The sheet's name (default: the first sheet).
        header: True if the first non-empty row names the columns, False if it is data,
            None to tell.

    Raises:
        DataFormatError: If the file is not a readable workbook or has no such sheet.
    """
    workbook = _open(path)
    try:
        rows = _text_rows(_sheet(workbook, path, sheet))
        first = next(rows, None)
        if first is None:
            return
        ahead = list(islice(rows, LOOKAHEAD))
        yield from _records(path, first, ahead, rows, header)
    finally:
        workbook.close()


def sheet_names(path: Path) -> list[str]:
    """The names of a workbook's sheets, in order."""
    workbook = _open(path)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _open(path: Path):
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataFormatError(path, 1, f"not a readable Excel workbook (.xlsx) ({exc}); "
                                       "save it again from the spreadsheet program") from None


def _sheet(workbook, path: Path, name: str | None):
    if name is None:
        return workbook.worksheets[0]
    if name not in workbook.sheetnames:
        raise DataFormatError(path, 1, f"the workbook has no sheet '{name}'; its sheets are: "
                                       f"{', '.join(workbook.sheetnames)}")
    return workbook[name]


def _text_rows(worksheet) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells as text)`` of the non-empty rows, trailing empty cells cut."""
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        cells = [_text(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            yield number, cells


def _records(path: Path, first: tuple[int, list[str]], ahead: list, rows: Iterator,
             header: bool | None) -> Iterator[RawRow | RecordError]:
    if header is None:
        header = not first_row_is_data(first[1], [cells for _, cells in ahead])
    names = _header_names(path, first) if header else numbered(len(first[1]))
    pending = chain(ahead, rows) if header else chain([first], ahead, rows)
    for number, cells in pending:
        yield _row(path, number, cells, names)


def _header_names(path: Path, first: tuple[int, list[str]]) -> list[str]:
    names: list[str] = []
    for cell in first[1]:
        name = cell.strip()
        if not name and names:  # a merged header cell spanning this column
            base = names[-1].split(" (")[0]
            name = f"{base} ({sum(n == base or n.startswith(base + ' (') for n in names) + 1})"
        if not name:
            raise DataFormatError(path, first[0], "the header row starts with an empty cell; "
                                                  "name the column or use --no-header")
        if name in names:
            raise DataFormatError(path, first[0], f"the header names a column twice: {name}")
        names.append(name)
    return names


def _row(path: Path, number: int, cells: list[str], names: list[str]) -> RawRow | RecordError:
    if len(cells) > len(names):
        return RecordError(str(path), number, None, f"row has a value in column {len(cells)}, "
                           f"beyond the {len(names)} named columns", unit="row")
    cells = cells + [""] * (len(names) - len(cells))
    return RawRow(number, dict(zip(names, cells)), unit="row")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)
