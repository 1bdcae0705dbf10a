"""Redaction policies: which identifier types a project replaces.

- clinical: HIPAA Safe Harbor's identifiers that text can hold (names, every date
  element other than the year, phone, fax, e-mail, SSN, record / account / plan /
  licence numbers, addresses and ZIP codes, URLs, IP addresses, ages over 89).
- legal: parties and the people around a case (names), addresses and ZIP codes,
  case and docket numbers, account numbers, and direct contacts (phone, fax, e-mail,
  SSN).
- general: direct identifiers only: names of persons, phones, e-mails, SSNs and
  record numbers. Dates are kept, and names that belong to history rather than to
  a person in the data ("King Henry II", "Pope Gregory") are left alone.
- off: nothing is replaced.
"""

from __future__ import annotations

import re

from engine.data.phi.detectors import PHI_TYPES, Span, detect

POLICIES: dict[str, frozenset[str]] = {
    "clinical": frozenset(PHI_TYPES),
    "legal": frozenset({"NAME", "ADDRESS", "ZIP", "CASE_NUMBER", "ACCOUNT", "PHONE", "FAX",
                        "EMAIL", "SSN"}),
    "general": frozenset({"NAME", "PHONE", "FAX", "EMAIL", "SSN", "MRN"}),
    "off": frozenset(),
}
DEFAULT_POLICY = "clinical"
DESCRIPTIONS = {
    "clinical": "HIPAA Safe Harbor: names, dates other than years, contacts, record, account "
                "and licence numbers, addresses, ZIP codes, URLs, IP addresses, ages over 89",
    "legal": "parties and other names, addresses, case and docket numbers, account numbers, "
             "phones, e-mails",
    "general": "direct identifiers only: names of persons, phones, e-mails, record numbers",
    "off": "no redaction",
}
_RULER = (r"(?:King|Queen|Emperor|Empress|Pope|Saint|St\.|Prince|Princess|Tsar|Czar|Sultan|"
          r"Pharaoh|Kaiser|Duke|Duchess|Archduke|Caliph|Shah|Emir)\s+")
_HISTORICAL_BEFORE = re.compile(_RULER + "$")
_HISTORICAL_START = re.compile("^" + _RULER)
_REGNAL_AFTER = re.compile(r"^\s+(?:[IVX]{1,6}|the\s+(?:Great|Elder|Younger|Conqueror|Bold))\b")


class PolicyError(ValueError):
    """An unknown policy, or a change asked for after the project was cleaned."""


def check_policy(policy: str) -> str:
    """The policy name, checked.

    Raises:
        PolicyError: If it is not one of ``POLICIES``.
    """
    if policy not in POLICIES:
        raise PolicyError(f"unknown redaction policy {policy!r}; expected one of "
                          f"{', '.join(POLICIES)}")
    return policy


def detect_for(text: str, policy: str = DEFAULT_POLICY) -> list[Span]:
    """The identifiers a policy replaces in a text.

    Args:
        text: Any text.
        policy: One of ``POLICIES``.

    Returns:
        Non-overlapping spans in text order (none for "off").
    """
    kinds = POLICIES[check_policy(policy)]
    if not kinds:
        return []
    spans = detect(text, kinds if kinds != POLICIES["clinical"] else None)
    if policy == "general":
        spans = [s for s in spans if not (s.kind == "NAME" and _historical(text, s))]
    return spans


def _historical(text: str, span: Span) -> bool:
    """A name that belongs to history: after a ruler's or saint's title, or before a
    regnal number or epithet ("Henry II", "Alfred the Great")."""
    before = text[max(0, span.start - 20):span.start]
    return bool(_HISTORICAL_BEFORE.search(before) or _HISTORICAL_START.match(span.text)
                or _REGNAL_AFTER.match(text[span.end:]))
