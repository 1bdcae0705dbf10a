"""Rule detectors for identifiers in free text.

Covers the HIPAA Safe Harbor identifiers that text can hold (names, dates,
phone and fax numbers, e-mail, SSN, medical record / account / health plan /
licence numbers, street addresses and ZIP codes, URLs, IP addresses, ages over
89) and legal case / docket numbers. Structured identifiers are found by
patterns, most with a context word (``MRN``, ``Acct``, ``Docket No.``); names by
titles here and by the rules of :mod:`engine.data.phi.name_rules` (context words,
gazetteer, an identifier next to them, inverted forms, lists and repeats).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.data.phi.name_rules import CAP, extend_names, find_names, trim_possessive
from engine.data.phi.names import TITLES

PHI_TYPES = ("NAME", "DATE", "PHONE", "FAX", "EMAIL", "SSN", "MRN", "ACCOUNT", "LICENSE",
             "ADDRESS", "ZIP", "URL", "IP", "AGE", "CASE_NUMBER")
STRUCTURED_TYPES = tuple(t for t in PHI_TYPES if t != "NAME")

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_ID = r"[A-Z0-9][A-Z0-9-]{3,}\d"
_CAP = CAP
_STREET = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|"
           r"Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy)")

# (type, pattern, group holding the identifier); order is priority when spans overlap.
_RULES: list[tuple[str, str, int]] = [
    ("EMAIL", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", 0),
    ("URL", r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]", 0),
    ("IP", r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b", 0),
    ("IP", r"\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b", 0),
    ("SSN", r"\b(?!000|666|9\d\d)\d{3}[- ](?!00)\d{2}[- ](?!0000)\d{4}\b", 0),
    ("SSN", r"(?i:\bSSN|social security(?: number| no\.?)?)[:#\s]*(\d{9})\b", 1),
    ("CASE_NUMBER", r"\b(?:\d{1,2}:)?\d{2}-(?:cv|cr|mc|bk|md|mj|ap|CV|CR)-\d{3,6}(?:-[A-Z]{2,4})*\b", 0),
    ("CASE_NUMBER", r"(?i:\b(?:case|docket|cause|index|file|claim|appeal|indictment)\s*"
                    r"(?:no\.?|number|num\.?|#)\s*:?\s*)([A-Z0-9][A-Z0-9:./-]{3,}[A-Z0-9])", 1),
    ("CASE_NUMBER", r"\b(?:19|20)\d{2}-[A-Z]{2,4}-\d{3,7}\b", 0),
    ("MRN", r"(?i:\b(?:MRN|MR#|medical record(?:\s+(?:number|no\.?|#))?|chart(?:\s+(?:number|no\.?|#))|"
            r"patient\s+id))\s*[:#]?\s*(" + _ID + r")", 1),
    ("ACCOUNT", r"(?i:\b(?:account|acct|member|policy|beneficiary|health plan|insurance|subscriber|"
                r"billing)(?:\s+(?:number|no\.?|id|#))?)\s*[:#]?\s*(" + _ID + r")", 1),
    ("ACCOUNT", r"\b(?:\d{4}[- ]){3}\d{4}\b", 0),
    ("LICENSE", r"(?i:\b(?:licen[cs]e|DEA|NPI|certificate|permit|passport|serial|plate|VIN|"
                r"device\s+id)(?:\s+(?:number|no\.?|#))?)\s*[:#]?\s*(" + _ID + r")", 1),
    ("FAX", r"(?i:\bfax(?:\s+(?:number|no\.?))?)\s*[:#]?\s*((?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4})\b", 1),
    ("PHONE", r"(?<![\d-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b", 0),
    ("DATE", r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2})\b", 0),
    ("DATE", r"\b" + _MONTH + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?\b", 0),
    ("DATE", r"\b\d{1,2}(?:st|nd|rd|th)?[\s-]+(?:of\s+)?" + _MONTH + r"\.?,?[\s-]+\d{2,4}\b", 0),
    ("DATE", r"\b" + _MONTH + r"\.?\s+\d{4}\b", 0),
    ("AGE", r"\b(9\d|1[01]\d)(?:[- ](?:years?|yrs?|y/?o)(?:[- ]old)?|yo\b)", 1),
    ("AGE", r"(?i:\b(?:aged?|age:))\s*(9\d|1[01]\d)\b", 1),
    ("ADDRESS", r"\b\d{1,5}\s+(?:[NSEW]\.?\s+)?(?:" + _CAP + r"\s+){1,3}" + _STREET +
                r"\b\.?(?:,?\s+(?:Apt|Suite|Unit|#)\.?\s*\w+)?", 0),
    ("ADDRESS", r"(?i:\bP\.?\s?O\.?\s+Box\s+\d+)", 0),
    ("ADDRESS", r"\b(" + _CAP + r"(?:\s+" + _CAP + r")?)(?=,\s+[A-Z]{2}\s+\d{5})", 1),
    ("ZIP", r"(?<=\b[A-Z]{2} )\d{5}(?:-\d{4})?\b", 0),
    ("ZIP", r"(?i:\bzip(?:\s*code)?)\s*[:#]?\s*(\d{5}(?:-\d{4})?)\b", 1),
    ("NAME", r"\b(?:" + "|".join(TITLES) + r")\.?\s+(" + _CAP + r"(?:\s+" + _CAP + r")?)", 1),
    ("NAME", r"\b(" + _CAP + r")\s+v\.\s+(?:" + _CAP + r")\b", 1),
    ("NAME", r"\b(?:" + _CAP + r")\s+v\.\s+(" + _CAP + r")\b", 1),
    # Appended rules (the needle table below refers to rules by position).
    ("PHONE", r"(?i:\b(?:tel|phone|ph|cell|mobile|call|pager)\.?:?)\s*(\d{10})\b", 1),
    ("CASE_NUMBER", r"(?i:\b(?:docket|case))\s+((?=[\w:./-]*\d)[A-Za-z0-9][\w:./-]{3,}\d)\b", 1),
]
# A rule runs only when one of its words occurs in the lowercased text (no words: always).
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NEEDLES: dict[int, tuple[str, ...]] = {
    0: ("@",), 1: ("http", "www."), 2: (".",), 3: (":",), 5: ("ssn", "social"), 6: ("-cv-", "-cr-",
    "-mc-", "-bk-", "-md-", "-mj-", "-ap-"), 7: ("case", "docket", "cause", "index", "file", "claim",
    "appeal", "indictment"), 9: ("mrn", "mr#", "medical record", "chart", "patient id"),
    10: ("account", "acct", "member", "policy", "beneficiary", "health plan", "insurance",
         "subscriber", "billing"),
    12: ("licen", "dea", "npi", "certificate", "permit", "passport", "serial", "plate", "vin", "device"),
    13: ("fax",), 16: _MONTHS, 17: _MONTHS, 18: _MONTHS, 19: ("y", "old"), 20: ("age",),
    22: ("box",), 25: ("zip",), 27: (" v. ",), 28: (" v. ",),
    29: ("tel", "phone", "ph", "cell", "mobile", "call", "pager"), 30: ("docket", "case")}
_COMPILED = [(kind, re.compile(pattern), group, _NEEDLES.get(i, ()))
             for i, (kind, pattern, group) in enumerate(_RULES)]
_PRIORITY = {kind: len(_RULES) - i for i, (kind, _, _) in enumerate(reversed(_RULES))}


@dataclass(frozen=True)
class Span:
    """One identifier found in a text: ``text[start:end]`` of a type."""

    start: int
    end: int
    kind: str
    text: str


def detect(text: str, kinds: frozenset[str] | None = None) -> list[Span]:
    """Find identifiers in a text.

    Args:
        text: Any text.
        kinds: Types to look for (default: all of ``PHI_TYPES``).

    Returns:
        Non-overlapping spans in text order; where two overlap the longer wins, then
        the type listed first in the rules.
    """
    found: list[Span] = []
    has_digit = any(c.isdigit() for c in text)
    lower = text.lower()
    for kind, pattern, group, needles in _COMPILED:
        if (kinds is not None and kind not in kinds) or (not has_digit and kind not in _NO_DIGITS):
            continue
        if needles and not any(needle in lower for needle in needles):
            continue
        for match in pattern.finditer(text):
            start, end = match.span(group)
            if kind == "NAME":
                end = trim_possessive(text, start, end)
            if end > start:
                found.append(Span(start, end, kind, text[start:end]))
    if kinds is None or "NAME" in kinds:
        found.extend(_name_spans(text, find_names(text, lower)))
        kept = _resolve(found)
        names = [(s.start, s.end) for s in kept if s.kind == "NAME"]
        found = kept + _name_spans(text, extend_names(text, names))
    return _resolve(found)


def _name_spans(text: str, pairs: list[tuple[int, int]]) -> list[Span]:
    spans = []
    for start, end in pairs:
        end = trim_possessive(text, start, end)
        spans.append(Span(start, end, "NAME", text[start:end]))
    return spans


_NO_DIGITS = frozenset({"EMAIL", "URL", "DATE", "NAME", "ADDRESS", "CASE_NUMBER", "MRN",
                        "ACCOUNT", "LICENSE"})


def _resolve(spans: list[Span]) -> list[Span]:
    spans.sort(key=lambda s: (s.start, -(s.end - s.start), _PRIORITY[s.kind]))
    kept: list[Span] = []
    for span in spans:
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept
