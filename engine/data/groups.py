"""The group of each record (a field, or a function of the record), as fairness checks and
group re-weighting read it."""

from __future__ import annotations

from typing import Any, Callable, Sequence


def record_groups(records: Sequence[dict], attribute: str | Callable[[dict], Any]) -> list[str]:
    """The group of each record: the value of a field, or of a function of the record.

    Raises:
        ValueError: naming the record when the field is missing.
    """
    if callable(attribute):
        return [str(attribute(record)) for record in records]
    groups = []
    for index, record in enumerate(records):
        if attribute not in record:
            raise ValueError(f"record {index} (line {record.get('_line', '?')}): "
                             f"field '{attribute}' is missing; it names the group")
        groups.append(str(record[attribute]))
    return groups
