"""Stream the items of a top-level JSON array with the line on which each one starts.

The file is read in chunks and decoded incrementally; each item is parsed by
the standard library's C scanner straight from the buffered text, so memory
holds a chunk and the item being read, never the whole file. Lines are counted
from the newlines before each item, so every item, every bad record and every
syntax error is named by its line.

A broken item whose brackets still balance becomes a
:class:`~engine.data.records.RecordError` (line and column of the fault) and
reading goes on. A file that breaks for good (truncated, not an array, two
items without a comma, text after the array, bytes that are not text) raises
:class:`~engine.data.records.DataFormatError` naming the line.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import IO, Iterator

from engine.data.encodings import decode_error, detect_encoding, open_regular
from engine.data.json_limits import RECORD, parse_failure, value_problem
from engine.data.records import DataFormatError, RawRow, RecordError

CHUNK_BYTES = 1 << 20
RAW_LIMIT = 4000
_NEAR_END = 64  # a parse error this close to the end of the buffer may just need more text
_DECODER = json.JSONDecoder()
_SCAN = _DECODER.scan_once  # the C scanner: (value, end) or StopIteration
_SPACE = re.compile(r"[ \t\r\n]*")
_SEPARATOR = re.compile(r"[ \t\r\n]*(,?)[ \t\r\n]*")
_SCALAR = re.compile(r"[\w.+-]*")
_STRUCTURE = re.compile(r'[\[\]{},"]')
_STRING_BODY = re.compile(r'[^"\\\n]*(?:\\.[^"\\\n]*)*')


class _Window:
    """The unread text of a file, with the line number of any position in it.

    Attributes:
        text: Decoded text from the oldest position still needed.
        pos: Where reading stands in ``text``.
        eof: True once the whole file is in ``text``.
    """

    def __init__(self, stream: IO[bytes], path: Path, encoding: str) -> None:
        self.stream, self.path, self.encoding = stream, path, encoding
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self.text, self.pos, self.eof = "", 0, False
        self._counted_to, self._counted_line = 0, 1

    def line_at(self, index: int) -> int:
        """The 1-based line of ``text[index]``."""
        if index >= self._counted_to:
            self._counted_line += self.text.count("\n", self._counted_to, index)
            self._counted_to = index
            return self._counted_line
        return self._counted_line - self.text.count("\n", index, self._counted_to)

    def more(self) -> bool:
        """Drop the text before ``pos`` and read more (at least as much as is buffered,
        so that a long item is re-parsed a bounded number of times); False at the end."""
        if self.eof:
            return False
        line = self.line_at(self.pos)
        size = max(CHUNK_BYTES, len(self.text) - self.pos)
        while True:
            raw = self.stream.read(size)
            chunk = self._decode(raw, line)
            if chunk or not raw:
                break
        self.text = self.text[self.pos:] + chunk
        self.pos, self._counted_to, self._counted_line = 0, 0, line
        self.eof = not raw
        return bool(chunk)

    def more_if_at_end(self, index: int) -> bool:
        """Read more when ``index`` is the end of the buffer; False otherwise or at the end."""
        return index == len(self.text) and self.more()

    def _decode(self, raw: bytes, line: int) -> str:
        try:
            return self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            before = exc.object[:exc.start].decode(self.encoding, errors="replace")
            at = line + self.text.count("\n", self.pos) + before.count("\n")
            raise decode_error(self.path, at, self.encoding, exc) from None

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def fail(self, index: int, message: str) -> DataFormatError:
        """An error for the whole file, at the line of ``text[index]``."""
        return DataFormatError(self.path, self.line_at(index), message)


def iter_json_array(path: Path, encoding: str | None = None) -> Iterator[RawRow | RecordError]:
    """The items of a top-level JSON array, each with the line it starts on and its number.

    Args:
        path: The file.
        encoding: A codec name, or None to detect it.

    Yields:
        A :class:`~engine.data.records.RawRow` per item, or a RecordError for an item
        that is not valid JSON (its brackets balance, so reading goes on after it).

    Raises:
        DataFormatError: If the file is not a JSON array, is truncated, has two items
            without a comma between them or text after the array, or is not text.
    """
    path = Path(path)
    encoding = encoding or detect_encoding(path)
    with open_regular(path) as stream:
        window = _Window(stream, path, encoding)
        yield from _items(window)


def _items(window: _Window) -> Iterator[RawRow | RecordError]:
    first = window.peek()
    if first == "\ufeff":
        window.pos += 1
        first = window.peek()
    if first == "":
        return
    if first != "[":
        raise window.fail(window.pos, f"expected a JSON array (a file starting with '['), found "
                                      f"{first!r}; pass another --format if the file is not one")
    window.pos += 1
    count, last_line = 0, window.line_at(window.pos - 1)
    following = window.peek()
    while following != "]":
        if following == "":
            raise DataFormatError(window.path, last_line, f"the file ends after item {count} "
                                  "without closing the array (']'); it may be truncated")
        count += 1
        yield _item(window, count)
        last_line = window.line_at(window.pos - 1)
        separator = _SEPARATOR.match(window.text, window.pos)
        if separator.group(1) and separator.end() < len(window.text):  # the common case
            window.pos = separator.end()
            following = window.text[window.pos]
            continue
        following = window.peek()
        if following == ",":
            window.pos += 1
            following = window.peek()
        elif following not in ("]", ""):
            raise window.fail(window.pos, f"expected ',' or ']' after item {count}, found "
                                          f"{following!r}")
    window.pos += 1
    if window.peek() != "":
        raise window.fail(window.pos, "text after the end of the array; a JSON file holds one array")


def _item(window: _Window, count: int) -> RawRow | RecordError:

    while True:
        start = window.pos
        if window.text[start] not in '{["' and window.more_if_at_end(
                _SCALAR.match(window.text, start).end()):
            continue  # a bare number or literal at the end of the buffer may go on
        try:
            value, end = _SCAN(window.text, start)
        except (StopIteration, json.JSONDecodeError):
            exc = _decode_error(window.text, start)
            if _may_need_more(exc, window.text) and window.more():
                continue
            return _broken_item(window, exc, count)
        except (RecursionError, ValueError) as exc:  # too deep, or a number too long
            return _unreadable_item(window, count, RECORD, parse_failure(exc))
        problem = value_problem(value, window.text, start, end)
        if problem:
            return _unreadable_item(window, count, *problem)
        line = window.line_at(start)
        window.pos = end
        return RawRow(line, value, item=count)


def _unreadable_item(window: _Window, count: int, field: str, message: str) -> RecordError:
    """Quarantine the item starting at ``pos`` (it parses, or nearly, but cannot be kept)."""
    line = window.line_at(window.pos)
    raw = window.text[window.pos:window.pos + RAW_LIMIT]
    if not _skip_item(window):
        raise DataFormatError(window.path, line, f"item {count}: {message}, and the array never "
                                                 "goes on; the file may be truncated")
    return RecordError(str(window.path), line, field, message, raw=raw, item=count)


def _decode_error(text: str, start: int) -> json.JSONDecodeError:
    try:
        _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        return exc
    raise AssertionError("the scanner and the decoder disagree")


def _may_need_more(exc: json.JSONDecodeError, text: str) -> bool:
    return exc.msg.startswith("Unterminated string") or exc.pos >= len(text) - _NEAR_END


def _broken_item(window: _Window, exc: json.JSONDecodeError, count: int) -> RecordError:
    line = window.line_at(exc.pos)
    column = exc.pos - window.text.rfind("\n", 0, exc.pos)
    fault = f"{exc.msg}{'' if exc.msg.endswith(' at') else ' at'} column {column}"
    raw = window.text[window.pos:window.pos + RAW_LIMIT]
    if not _skip_item(window):
        raise DataFormatError(window.path, line, f"broken JSON in item {count} ({fault}) and the "
                                                 "array never goes on; the file may be truncated")
    return RecordError(str(window.path), line, None, f"invalid JSON: {fault}", raw=raw, item=count)


def _skip_item(window: _Window) -> bool:
    """Move ``pos`` to the ',' or ']' that ends the item starting at ``pos``, counting
    brackets outside strings (a string ends at its quote or, when broken, at the end of
    its line). Returns False if the file ends first."""
    depth, index = 0, window.pos
    while True:
        found = _STRUCTURE.search(window.text, index)
        if found is None:
            window.pos = len(window.text)
            if not window.more():
                return False
            index = 0
            continue
        index, char = found.start(), found.group()
        if char == '"':
            end = _STRING_BODY.match(window.text, index + 1).end()
            if end + 1 >= len(window.text) and not window.eof:
                window.pos = index
                window.more()
                index = 0
                continue
            index = end + 1
        elif char in "[{":
            depth, index = depth + 1, index + 1
        elif depth == 0 and char in ",]":
            window.pos = index
            return True
        else:
            if char in "]}":
                depth = max(depth - 1, 0)
            index += 1

