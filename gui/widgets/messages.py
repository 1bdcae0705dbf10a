"""Engine messages in the window's own terms.

The engine speaks to the command line and the window alike; where a message names a
command-line flag or command (``--map``, ``--format``, ``enclave compress``), the window
says which box, table or tab does the same. A leading exception type is dropped: the
message itself says what is wrong.
"""

from __future__ import annotations

import re

WINDOW_TERMS: list[tuple[str, str]] = [
    (r";? ?use --map FIELD=COLUMN",
     "; choose the column that holds each field in the Mapping table, then Import again"),
    (r"pass --format \(one of [^)]*\)", "choose the format in the Format box"),
    (r"pass another --format", "choose another format in the Format box"),
    (r"import a folder of \.txt/\.md files with --format text-files",
     "to import a folder of .txt/.md files, choose the format text-files"),
    (r"compress it first with `enclave compress [^`]*`", "compress it first in the Compress tab"),
    (r",? or bring a JSONL file with prompt, chosen and rejected on each line "
     r"\(enclave train-pairs[^)]*\)", ""),
    (r" ?\((?:see )?enclave train-(?:pairs|runs) PROJECT[^)]*\)", ""),
    (r"\(enclave compress\)", "(the Compress tab)"),
]
EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception)): ")


def for_window(text: str | None) -> str:
    """``text`` with command-line advice turned into window advice and no exception type."""
    text = EXCEPTION_PREFIX.sub("", (text or "").strip())
    for pattern, replacement in WINDOW_TERMS:
        text = re.sub(pattern, replacement, text)
    return text


WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".numbers"}


def file_problem(text: str) -> str | None:
    """Why the text of a file box cannot be imported before anything reads it, or None."""
    from pathlib import Path

    if not text.strip():
        return "Choose a file to import: the File box is empty (Browse… picks one)."
    path = Path(text.strip())
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return (f"{path.name} is a spreadsheet workbook, which Enclave cannot read: save the "
                "sheet as CSV (UTF-8) from your spreadsheet program and choose that file.")
    return None


def read_problem(path: str, exc: BaseException) -> str:
    """What went wrong reading a file, with the file (and line, field) and what to do."""
    from pathlib import Path

    name = Path(path.strip()).name or path
    if isinstance(exc, FileNotFoundError):
        return (f"Cannot read {name}: there is no such file. Check the name in the File box, "
                "or choose the file with Browse….")
    if isinstance(exc, OSError) and exc.strerror:
        return (f"Cannot read {name}: {exc.strerror.lower()}. Choose another file with "
                "Browse…, or check that the file is still there.")
    if isinstance(exc, UnicodeError):
        return (f"Cannot read {name}: it is not text in a known encoding. Export it as text "
                "(UTF-8) and choose that file.")
    return f"Cannot read {for_window(str(exc))}"
