"""Container formats: stream the raw rows of a file, one at a time, never the whole file.

Each ``iter_<format>`` yields :class:`RawRow` (a row as it stands in the file)
or :class:`~engine.data.records.RecordError` (a row that is broken) and goes
on; a file that cannot be read at all raises
:class:`~engine.data.records.DataFormatError`. Mapping rows onto task fields
happens later (:mod:`engine.data.mapping`).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from itertools import chain, islice
from pathlib import Path
from typing import Iterator

from engine.data.csv_dialect import choose_dialect
from engine.data.documents import iter_documents
from engine.data.encodings import decode_error, detect_encoding, open_regular, open_text, text_lines
from engine.data.header_guess import first_row_is_data, numbered
from engine.data.json_array import iter_json_array
from engine.data.json_limits import RECORD, parse_failure, value_problem
from engine.data.records import DataFormatError, RawRow, RecordError
from engine.data.sheets import iter_xlsx

CONTAINERS = ("jsonl", "json", "csv", "tsv", "xlsx", "text", "text-files", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
             ".tsv": "tsv", ".tab": "tsv", ".txt": "text", ".md": "text", ".parquet": "parquet",
             ".xlsx": "xlsx", ".xlsm": "xlsx"}
csv.field_size_limit(64 * 1024 * 1024)


Row = RawRow | RecordError


def detect_container(path: Path) -> str:
    """The container format of a file or folder, from its name and first bytes.

    Raises:
        DataFormatError: If the format cannot be told.
    """
    path = Path(path)
    if path.is_dir():
        return "text-files"
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix in ("json", "jsonl", None):
        with open_regular(path) as stream:
            head = stream.read(4096)
        if head.startswith(b"PAR1"):
            return "parquet"
        text = head.decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")
        if text.startswith("["):
            return "json"
        if text.startswith("{"):
            return "jsonl"
    if by_suffix is None:
        raise DataFormatError(path, 1, "cannot tell the format from the name; pass --format "
                                       f"(one of {', '.join(CONTAINERS)})")
    return by_suffix


def iter_rows(path: Path, container: str, encoding: str | None = None,
              header: bool | None = None, sheet: str | None = None) -> Iterator[Row]:
    """Stream the rows of a file in a container format.

    Args:
        path: The file (a folder for "text-files").
        container: One of ``CONTAINERS``.
        encoding: A codec name, or None to detect it.
        header: For tables (CSV, TSV, Excel): True if the first row names the columns,
            False if it is data (columns are then numbered "1", "2", ...), None to tell.
        sheet: For Excel: the sheet to read (default: the first).

    Raises:
        ValueError: If the container is unknown.
        DataFormatError: If the file cannot be read at all.
    """
    readers = {"jsonl": iter_jsonl, "json": iter_json_array,
               "csv": lambda p, e: iter_csv(p, e, header=header),
               "tsv": lambda p, e: iter_csv(p, e, delimiter="\t", header=header),
               "xlsx": lambda p, e: iter_xlsx(p, sheet, header),
               "text": iter_text_blocks, "text-files": iter_documents,
               "parquet": lambda p, e: iter_parquet(p)}
    if container not in readers:
        raise ValueError(f"unknown format {container!r}; expected one of {', '.join(CONTAINERS)}")
    return readers[container](Path(path), encoding)


TABLES = ("csv", "tsv", "xlsx")


def iter_jsonl(path: Path, encoding: str | None = None) -> Iterator[Row]:
    """One JSON object per line; blank lines skipped."""
    for number, line in text_lines(path, encoding):
        if line is None:
            yield RecordError(str(path), number, None, "line too long (over 8 MiB); split the record")
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RecordError(str(path), number, None, f"invalid JSON: {exc.msg} at column {exc.colno}",
                              raw=line[:4000])
            continue
        except (RecursionError, ValueError) as exc:
            yield RecordError(str(path), number, RECORD, parse_failure(exc), raw=line[:4000])
            continue
        problem = value_problem(value, line)
        if problem:
            yield RecordError(str(path), number, problem[0], problem[1], raw=line[:4000])
            continue
        yield RawRow(number, value)


def iter_csv(path: Path, encoding: str | None = None, delimiter: str | None = None,
             header: bool | None = None) -> Iterator[Row]:
    """Rows of a CSV/TSV file; quoted fields may span lines.

    The dialect is chosen on the first 64 KiB (:mod:`engine.data.csv_dialect`: RFC 4180
    with the delimiter whose rows agree in cell count) unless a delimiter is given.
    The first row names the columns unless it looks like data (or ``header`` says so):
    then columns are numbered "1", "2", ... A row with more or fewer cells than the
    header is a RecordError naming its line; one empty cell left by a trailing delimiter
    does not count. NUL characters on any line, more than ``MAX_COLUMNS`` columns and a
    quoted field that is never closed refuse the file, naming the line.

    Args:
        path: The file.
        encoding: A codec name, or None to detect it.
        delimiter: The delimiter, or None to choose it.
        header: True if the first row names the columns, False if it is data, None to tell.
    """
    encoding = encoding or detect_encoding(path)
    with open_text(path, encoding) as stream:
        try:
            sample = stream.read(SAMPLE_CHARS)
            truncated = bool(stream.read(1))
            stream.seek(0)
        except UnicodeDecodeError as exc:
            raise decode_error(path, 1, encoding, exc) from None
        if "\x00" in sample:
            raise DataFormatError(path, 1, "the file holds NUL characters (binary data)")
        dialect = choose_dialect(sample, delimiter, truncated)
        lines = _CsvLines(stream, path)
        yield from _csv_records(path, _PhysicalRows(csv.reader(lines, dialect), lines, path),
                                header)


MAX_COLUMNS = 2000
SAMPLE_CHARS = 64 * 1024
LOOKAHEAD = 50


class _CsvLines:
    """The physical lines of a CSV file for :func:`csv.reader`, refusing NUL characters.

    Attributes:
        number: Lines handed out so far.
        ended: True once the file has no more lines.
    """

    def __init__(self, stream, path: Path) -> None:
        self.stream, self.path, self.number, self.ended = stream, path, 0, False

    def __iter__(self) -> Iterator[str]:
        for line in self.stream:
            self.number += 1
            if "\x00" in line:
                raise DataFormatError(self.path, self.number, "the line holds NUL characters "
                                      "(binary data); export the file as text and import it again")
            yield line
        self.ended = True


class _PhysicalRows:
    """``(first line, cells)`` of each row read, refusing a quote that never closes.

    Attributes:
        start: The line the row being read starts on (for an error while reading it).
    """

    def __init__(self, reader, lines: _CsvLines, path: Path) -> None:
        self.reader, self.lines, self.path, self.start = reader, lines, path, 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for cells in self.reader:
            line, self.start = self.start, self.reader.line_num + 1
            _check_closed(self.path, self.lines, line)
            yield line, cells


def _csv_records(path: Path, rows: _PhysicalRows, header: bool | None) -> Iterator[Row]:
    try:
        stream = iter(rows)
        first = next(stream, None)
        if first is None:
            return
        cells = first[1]
        if cells:
            cells[0] = cells[0].lstrip("\ufeff")
        ahead = list(islice(stream, LOOKAHEAD))
        if header is None:
            header = not first_row_is_data(cells, [c for _, c in ahead])
        names = _header_names(path, cells) if header else numbered(_width(cells))
        pending = chain(ahead, stream) if header else chain([first], ahead, stream)
        for line, cells in pending:
            row = _row(path, line, cells, names, header)
            if row is not None:
                yield row
    except UnicodeDecodeError as exc:
        raise _exact_decode_error(path, rows.lines, exc) from None
    except csv.Error as exc:
        raise DataFormatError(path, rows.start, f"broken CSV: {exc}") from None


def _width(cells: list[str]) -> int:
    """Cells in a row, not counting one empty cell left by a trailing delimiter."""
    return len(cells) - 1 if len(cells) > 1 and cells[-1] == "" else len(cells)


def _header_names(path: Path, cells: list[str]) -> list[str]:
    names = [name.strip() for name in cells]
    if len(names) > 1 and not names[-1]:
        names.pop()  # a trailing delimiter on every row
    _check_header(path, names)
    return names


def _row(path: Path, line: int, cells: list[str], names: list[str], header: bool) -> Row | None:
    if not cells or cells == [""]:
        return None
    if len(cells) == len(names) + 1 and cells[-1] == "":
        cells = cells[:-1]
    if len(cells) != len(names):
        first = f"the header has {len(names)} ({', '.join(names)})" if header \
            else f"the first row has {len(names)}"
        return RecordError(str(path), line, None, f"row has {len(cells)} cells, {first}"[:1000],
                           raw=json.dumps(cells[:MAX_COLUMNS], ensure_ascii=False)[:4000])
    return RawRow(line, dict(zip(names, cells)))


def _exact_decode_error(path: Path, lines: _CsvLines, exc: UnicodeDecodeError) -> DataFormatError:
    """The decoding error at its exact line (the text stream decodes ahead in chunks)."""
    encoding = lines.stream.encoding
    try:
        for _ in text_lines(path, encoding):
            pass
    except DataFormatError as exact:
        return exact
    return decode_error(path, lines.number + 1, encoding, exc)


def _check_closed(path: Path, lines: _CsvLines, line: int) -> None:
    """A row that only the end of the file completed holds a quote that never closes."""
    if lines.ended:
        raise DataFormatError(path, line, "a quoted field is not closed (it runs to the end of "
                                          "the file); add the closing quote")


def _check_header(path: Path, header: list[str]) -> None:
    if len(header) > MAX_COLUMNS:
        raise DataFormatError(path, 1, f"the header has {len(header)} columns; at most "
                                       f"{MAX_COLUMNS} are supported")
    if any(not name for name in header):
        raise DataFormatError(path, 1, "the header row has an empty column name")
    counts = Counter(header)
    seen = {name for name, count in counts.items() if count > 1}
    if seen:
        raise DataFormatError(path, 1, f"the header names a column twice: {', '.join(sorted(seen))}")


def iter_text_blocks(path: Path, encoding: str | None = None) -> Iterator[Row]:
    """Plain text: one document per block of lines separated by blank lines."""
    block: list[str] = []
    first = 0
    for number, line in text_lines(path, encoding):
        if line is None:
            yield RecordError(str(path), number, None, "line too long (over 8 MiB)")
            continue
        if line.strip():
            first = first or number
            block.append(line.rstrip("\r\n"))
        elif block:
            yield RawRow(first, {"text": "\n".join(block)})
            block, first = [], 0
    if block:
        yield RawRow(first, {"text": "\n".join(block)})


def iter_parquet(path: Path, batch_size: int = 1024) -> Iterator[Row]:
    """Rows of a Parquet file, read batch by batch (numbered as rows)."""
    import pyarrow.parquet as pq

    with open_regular(path) as stream:
        try:
            parquet = pq.ParquetFile(stream)
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise DataFormatError(path, 1, f"not a readable Parquet file ({exc})") from None
        number = 0
        for batch in parquet.iter_batches(batch_size=batch_size):
            for row in batch.to_pylist():
                number += 1
                yield RawRow(number, row, unit="row")
