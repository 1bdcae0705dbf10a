"""Limits on what one JSON record may be: how deep it nests, how long its numbers are,
whether its text is valid Unicode.

The standard parser recurses once per level (a record nested 100,000 deep raises
RecursionError), refuses integers of more than 4,300 digits (ValueError) and accepts
``\\ud800`` escapes that leave a lone surrogate no text encoder can write. Each of these
is a problem of one record, to be quarantined with its line, never of the whole file.
"""

from __future__ import annotations

import re
import sys
from typing import Any

MAX_DEPTH = 200
RECORD = "(record)"  # the field named when the record as a whole is at fault
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_failure(exc: BaseException) -> str:
    """What is wrong with a record the parser gave up on (RecursionError or ValueError)."""
    if isinstance(exc, RecursionError):
        return f"the record is nested more than {MAX_DEPTH} levels deep"
    if "integer string conversion" in str(exc):
        return (f"a number has more than {sys.get_int_max_str_digits()} digits; "
                "write it as a string")
    return f"cannot read the record ({exc})"


def value_problem(value: Any, text: str, start: int = 0,
                  end: int | None = None) -> tuple[str, str] | None:
    """Why a parsed record cannot be kept, as ``(field, message)``, or None when it can.

    Args:
        value: The parsed record.
        text: The text it was parsed from (only scanned, never copied).
        start, end: Where the record lies in ``text``.

    Returns:
        The top-level field at fault (``"(record)"`` for the record as a whole) and why.
    """
    end = len(text) if end is None else end
    if text.count("[", start, end) + text.count("{", start, end) > MAX_DEPTH \
            and _depth(value) > MAX_DEPTH:
        return RECORD, f"the record is nested more than {MAX_DEPTH} levels deep"
    if _SURROGATE_ESCAPE.search(text, start, end):
        found = _lone_surrogate(value)
        if found:
            field, char = found
            return field, (f"holds a lone surrogate (\\u{ord(char):04x}), which is not text; "
                           "fix the escape sequence")
    return None


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((child, level + 1) for child in item)
    return deepest


def _lone_surrogate(value: Any) -> tuple[str, str] | None:
    top = value.items() if isinstance(value, dict) else [(RECORD, value)]
    for key, item in top:
        stack = [key, item]
        while stack:
            current = stack.pop()
            if isinstance(current, str):
                found = _SURROGATE.search(current)
                if found:
                    name = key if isinstance(key, str) and not _SURROGATE.search(key) else RECORD
                    return name, found.group()
            elif isinstance(current, dict):
                stack.extend(current.keys())
                stack.extend(current.values())
            elif isinstance(current, list):
                stack.extend(current)
    return None
