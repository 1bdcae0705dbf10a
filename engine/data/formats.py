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
from pathlib import Path
from typing import Any, Iterator

from engine.data.encodings import (decode_error, detect_encoding, open_regular, open_text,
                                   text_lines)
from engine.data.json_array import iter_json_array
from engine.data.json_limits import RECORD, parse_failure, value_problem
from engine.data.records import DataFormatError, RawRow, RecordError

CONTAINERS = ("jsonl", "json", "csv", "tsv", "text", "text-files", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
             ".tsv": "tsv", ".tab": "tsv", ".txt": "text", ".md": "text", ".parquet": "parquet"}
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


def iter_rows(path: Path, container: str, encoding: str | None = None) -> Iterator[Row]:
    """Stream the rows of a file in a container format.

    Args:
        path: The file (a folder for "text-files").
        container: One of ``CONTAINERS``.
        encoding: A codec name, or None to detect it.

    Raises:
        ValueError: If the container is unknown.
        DataFormatError: If the file cannot be read at all.
    """
    readers = {"jsonl": iter_jsonl, "json": iter_json_array, "csv": iter_csv,
               "tsv": lambda p, e: iter_csv(p, e, delimiter="\t"), "text": iter_text_blocks,
               "text-files": iter_text_files, "parquet": lambda p, e: iter_parquet(p)}
    if container not in readers:
        raise ValueError(f"unknown format {container!r}; expected one of {', '.join(CONTAINERS)}")
    return readers[container](Path(path), encoding)


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


def iter_csv(path: Path, encoding: str | None = None, delimiter: str | None = None) -> Iterator[Row]:
    """Rows of a CSV/TSV file with a header; quoted fields may span lines.

    The delimiter is sniffed from the first 64 KiB unless given. A row with more
    or fewer cells than the header is a RecordError naming its line. NUL characters
    on any line, more than ``MAX_COLUMNS`` columns and a quoted field that is never
    closed refuse the file, naming the line.
    """
    encoding = encoding or detect_encoding(path)
    with open_text(path, encoding) as stream:
        try:
            sample = stream.read(64 * 1024)
            stream.seek(0)
        except UnicodeDecodeError as exc:
            raise decode_error(path, 1, encoding, exc) from None
        if "\x00" in sample:
            raise DataFormatError(path, 1, "the file holds NUL characters (binary data)")
        dialect = _sniff(sample, delimiter)
        lines = _CsvLines(stream, path)
        yield from _csv_records(path, csv.reader(lines, dialect), lines)


MAX_COLUMNS = 2000


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


def _sniff(sample: str, delimiter: str | None) -> Any:
    if delimiter:
        class Given(csv.excel):
            pass
        Given.delimiter = delimiter
        return Given
    try:
        return csv.Sniffer().sniff(sample[:16384], ",\t;|")
    except csv.Error:
        return csv.excel


def _csv_records(path: Path, reader, lines: _CsvLines) -> Iterator[Row]:
    start = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        _check_closed(path, lines, 1)
        header = [name.lstrip("\ufeff").strip() for name in header]
        _check_header(path, header)
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            _check_closed(path, lines, line)
            if not cells or cells == [""]:
                continue
            if len(cells) != len(header):
                yield RecordError(str(path), line, None, f"row has {len(cells)} cells, the header "
                                                         f"has {len(header)} ({', '.join(header)})"[:1000],
                                  raw=json.dumps(cells[:MAX_COLUMNS], ensure_ascii=False)[:4000])
                continue
            yield RawRow(line, dict(zip(header, cells)))
    except UnicodeDecodeError as exc:
        raise _exact_decode_error(path, lines, exc) from None
    except csv.Error as exc:
        raise DataFormatError(path, start, f"broken CSV: {exc}") from None


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


def iter_text_files(folder: Path, encoding: str | None = None) -> Iterator[Row]:
    """A folder of .txt/.md files: one document per file (files in name order)."""
    files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in (".txt", ".md"))
    if not files:
        raise DataFormatError(folder, 1, "the folder holds no .txt or .md files")
    for path in files:
        text = "".join(line for _, line in text_lines(path, encoding) if line is not None)
        yield RawRow(1, {"text": text.strip(), "source": path.name})


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
