"""Per-record text repair, and helpers that reach every text field of a record."""

from __future__ import annotations

import re
import unicodedata
from typing import Callable

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")
TEXT_KEYS = ("prompt", "response", "system", "text", "text_pair")


def fix_text(text: str, mojibake: bool = True, normalise: bool = True) -> str:
    """Repair one text.

    Args:
        text: The text.
        mojibake: Undo mis-decoding (UTF-8 read as Latin-1/Windows-1252) with ftfy.
        normalise: NFC, control characters out, CRLF to LF, space runs to one space,
            at most one blank line, ends stripped.

    Returns:
        The repaired text.
    """
    if mojibake and not text.isascii():
        import ftfy
        text = ftfy.fix_text(text, normalization="NFC", fix_line_breaks=False)
    if normalise:
        text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
        text = _CONTROL.sub("", text)
        text = _SPACES.sub(" ", text)
        text = "\n".join(line.strip() for line in text.split("\n"))
        text = _BLANK_LINES.sub("\n\n", text).strip()
    return text


def map_texts(record: dict, func: Callable[[str], str]) -> dict:
    """A copy of the record with ``func`` applied to each text field and chat turn."""
    copy = dict(record)
    for key in TEXT_KEYS:
        if isinstance(copy.get(key), str):
            copy[key] = func(copy[key])
    if isinstance(copy.get("messages"), list):
        copy["messages"] = [{**m, "content": func(m["content"])} for m in copy["messages"]]
    if isinstance(copy.get("label"), str):
        copy["label"] = copy["label"].strip()
    return copy


def record_text(record: dict) -> str:
    """All the free text of a record, joined by newlines (labels left out)."""
    parts = [record[k] for k in TEXT_KEYS if isinstance(record.get(k), str)]
    parts += [m["content"] for m in record.get("messages") or () if isinstance(m, dict)]
    return "\n".join(parts)


def empty_fields(record: dict) -> list[str]:
    """Text fields (and chat turns) that are empty."""
    names = [k for k in TEXT_KEYS if isinstance(record.get(k), str) and not record[k].strip()]
    names += [f"messages[{i}]" for i, m in enumerate(record.get("messages") or ())
              if not m["content"].strip()]
    return names
