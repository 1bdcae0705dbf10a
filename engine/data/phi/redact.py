"""Redaction modes: typed placeholders, consistent pseudonyms within a project, or flag only."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.phi.detectors import Span, detect
from engine.data.phi.policy import detect_for

MODES = ("placeholder", "pseudonym", "flag")
SECRET_FILE = "phi_pseudonym.key"
_FAKE_GIVEN = ("Alex", "Robin", "Sam", "Jordan", "Casey", "Taylor", "Morgan", "Jamie", "Riley",
               "Avery", "Quinn", "Drew", "Rowan", "Emery", "Sage", "Reese", "Blair", "Kendall")
_FAKE_SURNAMES = ("Ashdown", "Birchley", "Coldridge", "Dunmore", "Elmsworth", "Fairholt",
                  "Greyling", "Hollins", "Ivesdale", "Jarrow", "Kestrel", "Linford", "Marchetti",
                  "Northam", "Oakridge", "Penhale", "Quarry", "Redfern", "Stanway", "Thornbury")


@dataclass
class Redaction:
    """A text after redaction and what was found in it."""

    text: str
    spans: list[Span] = field(default_factory=list)


def project_secret(folder: Path) -> bytes:
    """The project's pseudonym key: 32 random bytes kept in the project folder (mode 0600).

    Created on first use; the same key gives the same pseudonyms in every run.
    """
    path = Path(folder) / SECRET_FILE
    if path.is_file():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    temporary = path.with_suffix(".tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as stream:
        stream.write(key)
    os.replace(temporary, path)
    return key


def pseudonym(kind: str, value: str, key: bytes) -> str:
    """A stable stand-in for an identifier: a made-up name for NAME, ``TYPE-xxxxxx`` otherwise."""
    normal = " ".join(value.casefold().split())
    digest = hmac.new(key, f"{kind}\x00{normal}".encode(), hashlib.sha256).digest()
    if kind == "NAME":
        given = _FAKE_GIVEN[digest[0] % len(_FAKE_GIVEN)]
        surname = _FAKE_SURNAMES[digest[1] % len(_FAKE_SURNAMES)]
        return f"{given} {surname}" if " " in value.strip() else surname
    return f"[{kind}-{digest[:3].hex()}]"


def is_pseudonym(span: Span) -> bool:
    """True if a found identifier is one of :func:`pseudonym`'s stand-ins (a made-up name)."""
    if span.kind != "NAME":
        return False
    words = span.text.split()
    return (len(words) == 2 and words[0] in _FAKE_GIVEN and words[1] in _FAKE_SURNAMES) or \
        (len(words) == 1 and words[0] in _FAKE_SURNAMES)


def redact(text: str, mode: str = "placeholder", key: bytes | None = None,
           kinds: frozenset[str] | None = None, policy: str | None = None) -> Redaction:
    """Find identifiers and replace them as the mode says.

    Args:
        text: The text.
        mode: "placeholder" (``[NAME]``), "pseudonym" (needs ``key``) or "flag" (text unchanged).
        key: The project's secret for pseudonyms.
        kinds: Types to handle (default: all).
        policy: A redaction policy (:mod:`engine.data.phi.policy`); takes the place of
            ``kinds`` when given.

    Returns:
        The new text and the spans found (offsets refer to the original text).

    Raises:
        ValueError: If the mode is unknown or a pseudonym is asked for without a key.
    """
    if mode not in MODES:
        raise ValueError(f"unknown redaction mode {mode!r}; expected one of {', '.join(MODES)}")
    if mode == "pseudonym" and not key:
        raise ValueError("pseudonyms need the project's key")
    spans = detect_for(text, policy) if policy is not None else detect(text, kinds)
    if mode == "flag" or not spans:
        return Redaction(text, spans)
    parts, last = [], 0
    for span in spans:
        parts.append(text[last:span.start])
        parts.append(f"[{span.kind}]" if mode == "placeholder" else pseudonym(span.kind, span.text, key))
        last = span.end
    parts.append(text[last:])
    return Redaction("".join(parts), spans)


def typed_view(text: str, spans: list[Span]) -> str:
    """The text with every identifier shown as its type only (for reports)."""
    parts, last = [], 0
    for span in spans:
        parts.append(text[last:span.start])
        parts.append(f"[{span.kind}]")
        last = span.end
    parts.append(text[last:])
    return "".join(parts)
