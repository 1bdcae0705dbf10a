"""A labelled set of general text (history, science, how-to) for the precision of a policy.

Most sentences talk about history: kings, popes, battles and treaties with their
dates. None of that is about a person in the data, so for the general policy every
span found in them is a false positive. A few sentences hold a real contact (a
person's name, e-mail, phone, record number): those are the gold spans.
"""

from __future__ import annotations

import random
import re

from engine.data.phi.benchmark import Example

_RULERS = ("Henry", "Edward", "Louis", "Charles", "Elizabeth", "Victoria", "William", "Richard",
           "Catherine", "Peter", "Frederick", "George", "Philip", "Mary", "James")
_REGNAL = ("I", "II", "III", "IV", "V", "VI", "VIII", "XIV")
_PLACES = ("Hastings", "Waterloo", "Agincourt", "Utrecht", "Westphalia", "Tours", "Lepanto",
           "Vienna", "Poitiers", "Bosworth")
_MONTHS = ("January", "March", "April", "June", "July", "October", "November", "December")
_PEOPLE = ("Maria Lindqvist", "Tomasz Okonkwo", "Brigid Castellano", "Kwame Haddad",
           "Elena Whitfield", "Ravi Abernathy")
_HISTORY = [
    "King {R} {N} was crowned at Westminster in {Y}.",
    "The Battle of {P} was fought on {D}.",
    "Queen {R} reigned from {Y} until {Y2}.",
    "Pope Gregory {N} introduced a new calendar in {Y}.",
    "The Treaty of {P} was signed on {D}, ending years of war.",
    "{R} the Great expanded the kingdom after {Y}.",
    "Emperor {R} {N} moved the court to {P} in {MONTH} {Y}.",
    "Saint {R} founded the abbey near {P}.",
    "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "Preheat the oven to 200 degrees and bake for 25 minutes.",
    "The library reopened on {D} after the flood.",
]
_CONTACT = [
    "For the tour, email {PERSON} at {EMAIL} or call {PHONE}.",
    "Mr. {PERSON} asked for a copy of the minutes.",
    "Send the form to {EMAIL} before the deadline.",
    "Please ring Dr. {PERSON} on {PHONE} about the booking.",
]


def generate_general(n: int = 1000, seed: int = 0, contact_share: float = 0.2) -> list[Example]:
    """``n`` general-text sentences; about ``contact_share`` of them hold a person's contact."""
    rng = random.Random(seed)
    return [_fill(rng.choice(_CONTACT if rng.random() < contact_share else _HISTORY), rng)
            for _ in range(n)]


def _fill(template: str, rng: random.Random) -> Example:
    person = rng.choice(_PEOPLE)
    year = rng.randint(800, 1900)
    values = {"R": rng.choice(_RULERS), "N": rng.choice(_REGNAL), "P": rng.choice(_PLACES),
              "Y": str(year), "Y2": str(year + rng.randint(5, 60)), "MONTH": rng.choice(_MONTHS),
              "D": f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {year}",
              "PERSON": person,
              "EMAIL": f"{person.split()[0].lower()}.{rng.randint(10, 99)}@museum.org",
              "PHONE": f"({rng.randint(200, 989)}) {rng.randint(200, 989)}-{rng.randint(1000, 9999)}"}
    gold_kinds = {"PERSON": "NAME", "EMAIL": "EMAIL", "PHONE": "PHONE"}
    text, spans, last = "", [], 0
    for match in re.finditer(r"\{(\w+)\}", template):
        text += template[last:match.start()]
        slot, value = match.group(1), values[match.group(1)]
        if slot in gold_kinds:
            spans.append((len(text), len(text) + len(value), gold_kinds[slot]))
        text += value
        last = match.end()
    return Example(text + template[last:], spans)
