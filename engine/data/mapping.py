"""Column mapping: which column of a file fills which field of a task.

A mapping is ``{field: column}``. A column may join several with ``+``
(``prompt=instruction+input``: the non-empty ones, separated by a blank line).
Chat data maps the field ``messages`` to a list column (ShareGPT
``conversations`` with ``from``/``value`` or ``messages`` with ``role``/``content``).
"""

from __future__ import annotations

from typing import Any

from engine.data.records import RecordError, field_problem, task_fields

# Optional fields per task, beside the required ones of TASK_FIELDS.
OPTIONAL_FIELDS = {"instruction": ("system",), "classification": ("text_pair",), "text": ()}
CHAT_COLUMNS = ("messages", "conversations", "conversation", "dialog", "turns")
_SYNONYMS = {
    "prompt": ("prompt", "question", "query", "instruction", "input", "source", "request"),
    "response": ("response", "answer", "output", "completion", "target", "reply", "summary"),
    "system": ("system", "system_prompt"),
    "text": ("text", "sentence", "sentence1", "premise", "document", "content", "body",
             "note", "clause", "review", "input"),
    "text_pair": ("text_pair", "hypothesis", "sentence2", "second_text"),
    "label": ("label", "labels", "class", "category", "target", "y", "gold"),
}
_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
          "bot": "assistant", "model": "assistant", "chatgpt": "assistant", "system": "system",
          "tool": "tool", "function": "tool", "observation": "tool"}


class MappingError(ValueError):
    """A mapping that cannot work for this file (e.g. it names a missing column)."""


def required_fields(task: str) -> tuple[str, ...]:
    """Fields a task needs; chat data needs ``messages`` instead of prompt and response."""
    return task_fields(task)


def guess_mapping(columns: list[str], task: str) -> dict[str, str]:
    """Suggest a mapping from column names (case-insensitive synonyms).

    Alpaca files (instruction, input, output) map ``prompt`` to ``instruction+input``;
    chat files map ``messages`` to their list column.

    Args:
        columns: Column names in file order.
        task: The task the records are for.

    Returns:
        The suggested ``{field: column}``; fields with no good column are left out.
    """
    lower = {c.lower(): c for c in columns}
    if task == "instruction":
        chat = next((lower[c] for c in CHAT_COLUMNS if c in lower), None)
        if chat:
            return {"messages": chat}
        if {"instruction", "output"} <= set(lower):
            prompt = lower["instruction"] + (f"+{lower['input']}" if "input" in lower else "")
            return {"prompt": prompt, "response": lower["output"]}
    mapping: dict[str, str] = {}
    wanted = list(required_fields(task)) + list(OPTIONAL_FIELDS.get(task, ()))
    for field in wanted:
        taken = set(mapping.values())
        match = next((lower[s] for s in _SYNONYMS.get(field, (field,))
                      if s in lower and lower[s] not in taken), None)
        if match:
            mapping[field] = match
    return mapping


def resolve_positions(mapping: dict[str, str], columns: list[str]) -> dict[str, str]:
    """A mapping with columns given by 1-based position ("5") replaced by their names.

    A name the file has wins over a position (a header may name a column "3"); a
    position beyond the last column is left as it is, for :func:`check_mapping` to refuse.

    Args:
        mapping: ``{field: column}``; columns may be joined with ``+``; a position may be a
            number (a recipe's TOML ``mapping = {text = 5}``).
        columns: The file's column names in order.
    """
    def name(column: str) -> str:
        column = str(column).strip()
        if column in columns or not column.isdigit() or not 1 <= int(column) <= len(columns):
            return column
        return columns[int(column) - 1]

    return {field: "+".join(name(c) for c in str(spec).split("+"))
            for field, spec in mapping.items()}


def column_heading(position: int, name: str, first_value: str = "", width: int = 32) -> str:
    """How a column is shown in a mapping: ``"5: HISTORY OF PRESENT ILLNESS…"``.

    Args:
        position: 1-based position.
        name: The column's name ("5" when the file has no header).
        first_value: The first row's value, shown instead of a numbered name.
        width: Characters kept before an ellipsis.
    """
    shown = first_value if name == str(position) and first_value else name
    shown = " ".join(str(shown).split())
    if len(shown) > width:
        shown = shown[:width - 1].rstrip() + "\u2026"
    return f"{position}: {shown}" if shown != str(position) else str(position)


def check_mapping(mapping: dict[str, str], columns: list[str], task: str, file: str) -> None:
    """Refuse a mapping that misses a required field or names a column the file lacks.

    Raises:
        MappingError: Naming the file, the field and the column.
    """
    needed = ("messages",) if "messages" in mapping else required_fields(task)
    missing = [f for f in needed if f not in mapping]
    if missing:
        raise MappingError(f"{file}: no column is mapped to field(s) {', '.join(missing)}; "
                           f"columns are: {', '.join(columns) or '(none)'}; use --map FIELD=COLUMN")
    for field, spec in mapping.items():
        for column in spec.split("+"):
            if column not in columns:
                raise MappingError(f"{file}: the mapping {field}={spec} names column '{column}', "
                                   f"which the file does not have; columns are: {', '.join(columns)} "
                                   f"(or give a column's position, 1 to {len(columns)})")


def map_row(value: Any, mapping: dict[str, str], task: str, file: str, line: int,
            unit: str = "line", item: int | None = None) -> tuple[dict | None, list[RecordError]]:
    """Turn one raw row into a task record, or the errors that keep it out.

    Args:
        value: The raw row (a dict).
        mapping: ``{field: column}`` as checked by :func:`check_mapping`.
        task: The task.
        file, line, unit, item: Where the row is, for errors (``item``: its number in a
            JSON array).

    Returns:
        ``(record, [])`` with ``_line`` set, or ``(None, errors)``.
    """
    def error(field: str | None, message: str) -> RecordError:
        return RecordError(file, line, field, message, unit, item=item)

    if not isinstance(value, dict):
        return None, [error(None, f"expected an object with named fields, got {_type(value)}")]
    record: dict[str, Any] = {}
    for field, spec in mapping.items():
        if field == "messages":
            turns = value.get(spec)
            if turns is None:  # files that mix ShareGPT and messages shapes
                turns = next((value[c] for c in CHAT_COLUMNS if value.get(c) is not None), None)
            messages, problem = _chat(turns)
            if problem:
                return None, [error(spec, problem)]
            record["messages"] = messages
        else:
            record[field] = _join(value, spec) if "+" in spec else _scalar(value.get(spec, _MISSING), field)
    optional = OPTIONAL_FIELDS.get(task, ())
    record = {k: v for k, v in record.items()
              if v is not _MISSING and not (k in optional and v in (None, ""))}
    errors = [error(_column(mapping, f), p) for f in _checked_fields(record, task)
              if (p := field_problem(record, f))]
    if errors:
        return None, errors
    record["_line"] = line
    return record, []


_MISSING = object()


def _checked_fields(record: dict, task: str) -> list[str]:
    if "messages" in record:
        return []
    fields = list(required_fields(task))
    fields += [f for f in OPTIONAL_FIELDS.get(task, ()) if f in record]
    return fields


def _column(mapping: dict[str, str], field: str) -> str:
    return mapping.get(field, field)


def _scalar(value: Any, field: str) -> Any:
    if value is _MISSING:
        return _MISSING
    if field == "label" and isinstance(value, (int, bool)) and not isinstance(value, float):
        return str(value)
    return value


def _join(value: dict, spec: str) -> Any:
    parts = []
    for column in spec.split("+"):
        part = value.get(column)
        if part is not None and not isinstance(part, str):
            return part  # wrong type: reported by the field check
        if part and part.strip():
            parts.append(part.strip())
    return "\n\n".join(parts) if parts else _MISSING


def _chat(turns: Any) -> tuple[list[dict] | None, str | None]:
    if not isinstance(turns, list) or not turns:
        return None, f"expected a non-empty list of turns, got {_type(turns)}"
    messages = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict):
            return None, f"turn {index + 1}: expected an object, got {_type(turn)}"
        role = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value"))
        if not isinstance(role, str) or role.lower() not in _ROLES:
            return None, f"turn {index + 1}: unknown role {role!r}"
        if not isinstance(content, str) or not content.strip():
            return None, f"turn {index + 1}: empty or non-text content"
        messages.append({"role": _ROLES[role.lower()], "content": content})
    if not any(m["role"] == "assistant" for m in messages):
        return None, "no assistant turn to learn from"
    return messages, None


def _type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "true/false", type(None): "null",
             dict: "an object"}
    return names.get(type(value), "a number")
