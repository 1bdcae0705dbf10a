"""Whether a project redacts, and the redactor every surface uses to show its text.

A project redacts once its newest cleaning run replaced identifiers (typed placeholders
or consistent pseudonyms). From then on, every text Enclave shows, prints or writes
for the project passes through :func:`project_redactor`: text the clean already
redacted stays as it is (placeholders are not found again, pseudonyms are kept), raw
text (a quarantined line, a file brought for evaluation or drift, an output stored
before the clean) comes out redacted with the same mode and key as the clean used.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Callable

import sqlite_utils

from engine import paths
from engine.data.phi.policy import DEFAULT_POLICY, detect_for
from engine.data.phi.redact import is_pseudonym, project_secret, pseudonym
from engine.data.redaction_policy import project_policy
from engine.data.text_fix import map_texts

REDACTING_MODES = ("placeholder", "pseudonym")

Redactor = Callable[[str], str]


def redaction_mode(db: sqlite_utils.Database, project_id: int | None) -> str | None:
    """The redaction mode of the project's newest cleaning run, when it redacted.

    Args:
        db: The workspace store.
        project_id: The project (None: no project, no redaction).

    Returns:
        "placeholder" or "pseudonym", or None when the project has no clean run or its
        newest one did not replace identifiers ("off", "flag").
    """
    if project_id is None:
        return None
    row = db.execute("SELECT recipe FROM runs WHERE project_id = ? AND kind = 'data.clean' "
                     "ORDER BY id DESC LIMIT 1", [project_id]).fetchone()
    mode = json.loads(row[0] or "{}").get("redaction") if row else None
    if project_policy(db, project_id) == "off":
        return None
    return mode if mode in REDACTING_MODES else None


def project_redactor(db: sqlite_utils.Database, project_id: int | None) -> Redactor | None:
    """The function that makes a text safe to show for a project that redacts.

    Args:
        db: The workspace store.
        project_id: The project.

    Returns:
        ``text -> text`` with identifiers replaced as the project's newest clean replaced
        them (pseudonyms with the project's key), or None when the project does not redact.
    """
    mode = redaction_mode(db, project_id)
    if mode is None:
        return None
    key = project_secret(paths.project_dir(project_id)) if mode == "pseudonym" else None
    return partial(redact_for_display, mode=mode, key=key, policy=project_policy(db, project_id))


def display_redactor(db: sqlite_utils.Database, project_id: int | None) -> Redactor:
    """:func:`project_redactor`, or the identity when the project does not redact."""
    return project_redactor(db, project_id) or _same


def redact_for_display(text: str, mode: str = "placeholder", key: bytes | None = None,
                       policy: str = DEFAULT_POLICY) -> str:
    """A text with its identifiers replaced; stand-ins already in it are left alone.

    Args:
        text: Any text (a non-string is returned unchanged).
        mode: "placeholder" or "pseudonym".
        key: The project's pseudonym key (for "pseudonym").
        policy: The project's redaction policy (which types are replaced).
    """
    if not isinstance(text, str) or not text:
        return text
    parts, last = [], 0
    for span in detect_for(text, policy):
        if mode == "pseudonym" and is_pseudonym(span):
            continue
        parts.append(text[last:span.start])
        parts.append(f"[{span.kind}]" if mode == "placeholder" else pseudonym(span.kind, span.text, key))
        last = span.end
    parts.append(text[last:])
    return "".join(parts)


def redact_records(db: sqlite_utils.Database, project_id: int | None,
                   records: list[dict]) -> list[dict]:
    """Records with every text field and chat turn redacted when the project redacts
    (the same list, unchanged, when it does not)."""
    redactor = project_redactor(db, project_id)
    if redactor is None:
        return records
    return [map_texts(record, redactor) for record in records]


def redact_value(value: object, redactor: Redactor) -> object:
    """Every string inside a value (a raw row: dicts and lists nested) passed through
    ``redactor``; keys and other values are kept."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, dict):
        return {key: redact_value(item, redactor) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item, redactor) for item in value]
    return value


def _same(text: str) -> str:
    return text
