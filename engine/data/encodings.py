"""Which text encoding a file uses, and a streaming text view of it with line numbers.

Accepted: UTF-8 (with or without a byte order mark), UTF-16 (with a byte order
mark, or without one when every other byte of ASCII text is NUL) and Latin-1.
A file that is none of these (binary data, NUL bytes in 8-bit text) raises
:class:`~engine.data.records.DataFormatError` naming the file and line.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from pathlib import Path
from typing import IO, BinaryIO, Iterator

from engine.data.records import DataFormatError

SAMPLE_BYTES = 64 * 1024
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# Bytes that never occur in text: C0 controls other than tab, newline, CR, form feed, ESC.
_BINARY_BYTES = frozenset(range(0, 32)) - {9, 10, 12, 13, 27}


_KINDS = ((stat.S_ISDIR, "a folder, not a file; import a folder of .txt/.md files with "
                          "--format text-files"),
          (stat.S_ISFIFO, "a named pipe (FIFO), not a regular file; save the data to a file"),
          (stat.S_ISSOCK, "a socket, not a regular file; save the data to a file"),
          (stat.S_ISCHR, "a device, not a regular file; save the data to a file"),
          (stat.S_ISBLK, "a device, not a regular file; save the data to a file"))


def check_regular(path: Path, mode: int) -> None:
    """Refuse anything but a regular file (a folder, pipe, socket or device).

    Raises:
        DataFormatError: Naming the file and what it is instead.
    """
    if stat.S_ISREG(mode):
        return
    what = next((text for test, text in _KINDS if test(mode)), "not a regular file")
    raise DataFormatError(path, 1, f"the path is {what}")


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading in binary, refusing anything else before reading.

    A named pipe is opened without blocking and refused, so that no read can hang.

    Raises:
        FileNotFoundError: If the path does not exist.
        DataFormatError: If it is a folder, pipe, socket or device, or cannot be opened.
    """
    check_regular(path, os.stat(path).st_mode)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise DataFormatError(path, 1, f"cannot open the file ({exc.strerror})") from None
    try:
        check_regular(path, os.fstat(descriptor).st_mode)
    except DataFormatError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


def detect_encoding(path: Path) -> str:
    """The encoding of a text file, judged from its first 64 KiB.

    Args:
        path: The file.

    Returns:
        A Python codec name: "utf-8-sig", "utf-8", "utf-16", "utf-16-le", "utf-16-be", "cp1252"
        (Latin-1 as Windows writes it) or "latin-1".

    Raises:
        FileNotFoundError: If the file does not exist.
        DataFormatError: If the file looks binary (NUL or other control bytes).
    """
    with open_regular(path) as stream:
        sample = stream.read(SAMPLE_BYTES)
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    bare_utf16 = _bare_utf16(sample)
    if bare_utf16:
        return bare_utf16
    _refuse_binary(sample, path)
    if _is_utf8(sample):
        return "utf-8"
    if any(0x80 <= byte <= 0x9F for byte in sample):  # Windows' variant of Latin-1 (curly quotes)
        try:
            sample.decode("cp1252")
            return "cp1252"
        except UnicodeDecodeError:
            pass
    return "latin-1"


def _bare_utf16(sample: bytes) -> str | None:
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _refuse_binary(sample: bytes, path: Path) -> None:
    for index, byte in enumerate(sample):
        if byte in _BINARY_BYTES:
            line = sample.count(b"\n", 0, index) + 1
            what = "NUL bytes" if byte == 0 else f"control byte 0x{byte:02x}"
            raise DataFormatError(
                path, line, f"the file holds {what} (binary data, not UTF-8, UTF-16 or Latin-1 "
                "text); export it as text (UTF-8) and import it again")


def _is_utf8(sample: bytes) -> bool:
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(sample) - 3 and exc.reason.startswith("unexpected end")
    return True


def open_text(path: Path, encoding: str | None = None) -> IO[str]:
    """A text stream over the file that decodes lazily and keeps newlines as they are.

    Decoding errors raise :class:`UnicodeDecodeError` while reading; callers turn
    them into a :class:`DataFormatError` with :func:`decode_error`.
    """
    encoding = encoding or detect_encoding(path)
    return io.TextIOWrapper(open_regular(path), encoding=encoding, newline="")


def decode_error(path: Path, line: int, encoding: str, exc: UnicodeDecodeError) -> DataFormatError:
    """A clear error for a decoding failure at a line."""
    return DataFormatError(
        path, line, f"not valid {encoding} text ({exc.reason}); the file mixes encodings or is "
        "not text; save it as UTF-8 and import it again")


MAX_LINE_CHARS = 8 * 1024 * 1024


def text_lines(path: Path, encoding: str | None = None,
               max_chars: int = MAX_LINE_CHARS) -> Iterator[tuple[int, str | None]]:
    """Yield ``(line number, line)`` of a text file, streamed, newline kept.

    A line longer than ``max_chars`` is skipped without being held in memory
    whole; it is yielded as ``(number, None)`` so that the caller can report it.

    Raises:
        DataFormatError: If the file is binary or a line cannot be decoded; NUL
            characters anywhere in the text are refused too.
    """
    encoding = encoding or detect_encoding(path)
    lines = _byte_lines(path, encoding, max_chars) if encoding in _BYTE_LINE_CODECS \
        else _text_lines(path, encoding, max_chars)
    for number, line in lines:
        if line is not None:
            if "\x00" in line:
                raise DataFormatError(path, number, "the line holds NUL characters (binary data); "
                                                    "export the file as text and import it again")
        yield number, line


_BYTE_LINE_CODECS = ("utf-8", "utf-8-sig", "latin-1", "cp1252")


def _byte_lines(path: Path, encoding: str, max_chars: int) -> Iterator[tuple[int, str | None]]:
    """Lines split on bytes and decoded one by one, so an error names its exact line."""
    with open_regular(path) as stream:
        number = 0
        while True:
            raw = stream.readline(max_chars + 1)
            if not raw:
                return
            number += 1
            if len(raw) > max_chars and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):
                    raw = stream.readline(max_chars)
                yield number, None
                continue
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                yield number, raw.decode("utf-8" if encoding == "utf-8-sig" else encoding)
            except UnicodeDecodeError as exc:
                raise decode_error(path, number, encoding, exc) from None


def _text_lines(path: Path, encoding: str, max_chars: int) -> Iterator[tuple[int, str | None]]:
    number = 0
    with open_text(path, encoding) as stream:
        while True:
            try:
                line = stream.readline(max_chars + 1)
                too_long = len(line) > max_chars and not line.endswith(("\n", "\r"))
                while too_long and line and not line.endswith(("\n", "\r")):
                    line = stream.readline(max_chars)
            except UnicodeDecodeError as exc:
                raise decode_error(path, number + 1, encoding, exc) from None
            if not line and not too_long:
                return
            number += 1
            yield number, (None if too_long else line)
