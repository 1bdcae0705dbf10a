"""Rules that find person names in free text, besides the title rules of the detector.

A name is a run of one to three capitalised words. It counts as a person's name
when the text around it says so:

- a context word before it (``patient``, ``plaintiff``, ``name is``);
- the gazetteer of common given names and surnames (:mod:`engine.data.phi.names`);
- an identifier right after it (``Jane Roe (MRN 123)``, ``Jane Roe, DOB ...``, ``Jane Roe, 72 y/o``);
- the inverted record form ``ROE, JANE`` / ``Roe, Jane`` (a known given name or surname);
- a list with a name in it (``A B, C D and Dr. E``: if one is a name, all are);
- a repeat of a name found elsewhere in the same text (``Ms. Roe ... Roe said``).

Words that name places, bodies or things (``Hospital``, ``Department``,
``Court``) are never part of a person's name.
"""

from __future__ import annotations

import re
from functools import lru_cache

from engine.data.phi.names import GIVEN_NAMES, SURNAMES, TITLES

CAP = r"(?:[A-Z]'[A-Z][a-z]+|[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)"
_TITLE = r"(?:(?:" + "|".join(TITLES) + r")\.?\s+)"
_SHAPE = CAP + r"(?:\s+[A-Z]\.)?\s+" + CAP  # given (initial) surname
_MENTION = r"(?:" + _TITLE + CAP + r"(?:\s+" + CAP + r")?|" + _SHAPE + r")"

# Capitalised words that start sentences or name things, not people.
STOP = frozenset("the a an this that these those he she they we it his her their our my your in on "
                 "at of for to from by with and or but if when after before during since per "
                 "dear hello thanks regards court county state city hospital clinic center "
                 "university department street avenue road monday tuesday wednesday thursday "
                 "friday saturday sunday january february march april may june july august "
                 "september october november december".split())
# Words of institutions, places and things: a capitalised run holding one is not a person.
NOT_PERSON = frozenset("hospital clinic center centre medical medicine health healthcare care "
                       "department dept unit ward service services system systems group court "
                       "county state city university college school institute foundation board "
                       "office agency bank company corp corporation inc llc ltd llp plc pharma "
                       "pharmacy laboratory lab labs diagnostics software logistics insurance "
                       "cardiology oncology radiology neurology surgery pediatrics psychiatry "
                       "emergency internal general memorial regional national federal appeals "
                       "code section act street avenue road".split())
CONTEXT_WORDS = ("patient", "pt", "name", "client", "plaintiff", "defendant", "petitioner",
                 "respondent", "appellant", "appellee", "witness", "decedent", "guardian", "mother",
                 "father", "wife", "husband", "spouse", "son", "daughter", "signed by", "seen by",
                 "referred by", "attending", "contact")
_CONTEXT_SET = frozenset(w for w in CONTEXT_WORDS if " " not in w)
_PAIR = re.compile(r"\b(" + CAP + r")(?:\s+([A-Z])\.)?\s+(" + CAP + r")\b")
_ID_CUE = (r"[(,;]\s*(?i:MRN|MR#|DOB\b|D\.O\.B|SSN|NHS\b|ID\b|#\s*\d|date of birth|born\b|"
           r"aged?\b|\d{1,3}\s?(?:y/?o\b|yo\b|-?years?[- ]old|[mf]\b))")
_ID_CUE_SEARCH = re.compile(_ID_CUE)  # cheap test before the costly pattern
_BEFORE_IDENTIFIER = re.compile(r"\b(" + _SHAPE + r")(?=\s*" + _ID_CUE + ")")
_COMMA_WORD = re.compile(r",\s+([A-Z][a-z]+|[A-Z]{2,})\b")
_WORD_BEFORE = re.compile(r"\b(" + CAP + r"|[A-Z]{2,}(?:[-'][A-Z]+)?)$")
_LIST = re.compile(r"(?:" + _MENTION + r"\s*,\s*)*" + _MENTION + r",?\s+(?:and|or|&)\s+" + _MENTION)
_MEMBER = re.compile(_MENTION)


def is_person_run(words: list[str], strict: bool = True) -> bool:
    """True if no word of a capitalised run names a body or a thing and, when ``strict``,
    none starts sentences or is a context word (a strong context such as ``patient``
    before the run needs no more)."""
    for word in words:
        lower = word.lower().removesuffix("'s")
        if lower in NOT_PERSON or (strict and (lower in STOP or lower in _CONTEXT_SET)):
            return False
    return True


@lru_cache(maxsize=256)
def _context_pattern(words: tuple[str, ...]) -> re.Pattern:
    keywords = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    name = CAP + r"(?:\s+[A-Z]\.)?(?:\s+" + CAP + r")?"
    return re.compile(r"(?i:\b(?:" + keywords + r")(?:\s+(?:is|was|named|called))?\s*[:,]?\s+)"
                      r"(?!(?:" + "|".join(TITLES) + r")\b)(" + name + ")")


def find_names(text: str, lower: str) -> list[tuple[int, int]]:
    """Spans of names found by context words, the gazetteer, identifiers and inverted forms.

    Args:
        text: The text.
        lower: ``text.lower()`` (computed once by the caller).

    Returns:
        ``(start, end)`` pairs, possibly overlapping.
    """
    spans: list[tuple[int, int]] = []
    present = tuple(w for w in CONTEXT_WORDS if w in lower)
    if present:
        spans += [m.span(1) for m in _context_pattern(present).finditer(text)
                  if is_person_run(m.group(1).split(), strict=False)]
    spans += _gazetteer_names(text)
    if _ID_CUE_SEARCH.search(text):
        spans += [m.span(1) for m in _BEFORE_IDENTIFIER.finditer(text)
                  if is_person_run(m.group(1).split())]
    spans += _inverted_names(text)
    return spans


def _gazetteer_names(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _PAIR.finditer(text):
        first, last = match.group(1).lower(), match.group(3).lower().removesuffix("'s")
        if not is_person_run([first, last]):
            continue
        if first in GIVEN_NAMES or last in SURNAMES:
            spans.append(match.span())
    return spans


def _inverted_names(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _COMMA_WORD.finditer(text):
        before = _WORD_BEFORE.search(text, max(0, match.start() - 40), match.start())
        if before is None:
            continue
        surname, given = before.group(1).lower(), match.group(1).lower()
        if is_person_run([surname, given]) and (given in GIVEN_NAMES or surname in SURNAMES):
            spans.append((before.start(), match.end()))
    return spans


def extend_names(text: str, names: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """More names from the ones found: the other members of a list holding one, and
    repeats of their words elsewhere in the text.

    Args:
        text: The text.
        names: Spans already taken as names.

    Returns:
        New ``(start, end)`` spans (they may overlap the given ones).
    """
    if not names:
        return []
    extra = _list_members(text, names)
    words = {w.removesuffix("'s") for s, e in names + extra for w in text[s:e].replace(",", " ").split()}
    words = sorted(w for w in words if len(w) >= 3 and w[0].isupper() and is_person_run([w])
                   and w.rstrip(".") not in TITLES)
    if words:
        repeat = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b")
        extra += [m.span() for m in repeat.finditer(text)]
    return extra


def _list_members(text: str, names: list[tuple[int, int]]) -> list[tuple[int, int]]:
    extra = []
    for found in _LIST.finditer(text):
        members = [(found.start() + m.start(), found.start() + m.end(), m.group())
                   for m in _MEMBER.finditer(found.group())]
        if not any(s < e2 and s2 < e for s, e, _ in members for s2, e2 in names):
            continue
        for start, end, member in members:
            title = re.match(_TITLE, member)
            words = member[title.end() if title else 0:].split()
            if is_person_run(words):
                extra.append((start + (title.end() if title else 0), end))
    return extra


def trim_possessive(text: str, start: int, end: int) -> int:
    """The end of a name without a trailing possessive ``'s``."""
    return end - 2 if text[start:end].endswith("'s") and end - start > 2 else end
