"""A labelled synthetic benchmark for the identifier detectors, and its scoring.

Sentences from clinical and legal templates carry identifiers whose spans are
known. Person names are drawn from a list kept apart from the detector's
gazetteer (5 of its 24 given names and 3 of its 19 surnames appear in it, so a
third of the generated names have a part the gazetteer knows), so name recall
is not flattered.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from engine.data.phi.detectors import PHI_TYPES, detect
from engine.data.phi.policy import POLICIES, detect_for

_BENCH_GIVEN = ("Maria", "Tomasz", "Aiyana", "Oluwaseun", "Brigid", "Kwame", "Elena", "Tariq",
                "Greta", "Santiago", "Mei", "Dmitri", "Ngozi", "Linnea", "Rafael", "Hannah",
                "Jasper", "Ines", "Ravi", "Colette", "Soren", "Amara", "Emily", "Robert")
_BENCH_SURNAMES = ("O'Hara", "Okonkwo", "Lindqvist", "Brennan", "Castellano", "Haddad", "Nakashima",
                   "Whitfield", "Abernathy", "Kowalczyk", "Delacroix", "Achterberg", "Moreno",
                   "Fitzgerald", "Ogunleye", "Valdez", "Harrington", "Smith", "Nguyen")
_STREETS = ("Maple Grove Road", "Elm Street", "Harbor View Drive", "Old Mill Lane", "Cedar Avenue")
_CITIES = ("Springfield", "Fair Haven", "Riverton", "Lakewood", "Millbrook")
_MONTHS = ("January", "February", "March", "April", "June", "July", "September", "December")

_TEMPLATES = [
    "Patient {NAME} was admitted on {DATE} with chest pain.",
    "{NAME} (MRN: {MRN}) reports dizziness since {DATE}.",
    "Call the family at {PHONE} or send records by fax: {FAX}.",
    "Contact: {EMAIL}; portal {URL}.",
    "SSN {SSN} on file; member ID {ACCOUNT}.",
    "Discharged to home at {ADDRESS}, {CITY}, {STATE} {ZIP}.",
    "A {AGE}-year-old woman presented with confusion.",
    "Login from {IP} recorded for account {ACCOUNT}.",
    "Prescriber DEA {LICENSE}; follow-up on {DATE}.",
    "Plaintiff {NAME} filed Case No. {CASE_NUMBER} against the county.",
    "In re Docket No. {CASE_NUMBER}, defendant {NAME} moved to dismiss on {DATE}.",
    "Dr. {NAME} reviewed the chart, MRN {MRN}, on {DATE}.",
    "Mrs. {NAME} called from {PHONE} about her bill.",
    "Seen with {NAME} and {NAME2} at the clinic.",
    "Aged {AGE}, the patient lives alone at {ADDRESS}.",
    "Tel {PHONE10} — ask for the ward clerk about docket {CASE_NUMBER}.",
    "Ms. {NAME} moved to {CITY}, {STATE} {ZIP} in {DATE}.",
    # Decoys: numbers and capitalised words that are not identifiers.
    "BP 128/84, HR 72, temp 37.2 C; metformin 500 mg twice daily for 14 days.",
    "The Court of Appeals affirmed under Section 12-345 of the Penal Code.",
    "Hemoglobin 11.2 g/dL, platelets 250, creatinine 1.1; follow up in 6 weeks.",
    "Emergency Department staff gave 2 units of blood on Ward 7.",
]


def _value(kind: str, rng: random.Random) -> str:
    d = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    month = rng.choice(_MONTHS)
    makers = {
        "NAME": lambda: f"{rng.choice(_BENCH_GIVEN)} {rng.choice(_BENCH_SURNAMES)}",
        "DATE": lambda: rng.choice([f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(1940, 2024)}",
                                    f"{month} {rng.randint(1, 28)}, {rng.randint(1950, 2024)}",
                                    f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                                    f"{rng.randint(1, 28)} {month} {rng.randint(1950, 2024)}",
                                    f"{rng.randint(1, 28)}-{month[:3]}-{rng.randint(1950, 2024)}"]),
        "PHONE": lambda: rng.choice([f"({d(3)}) {d(3)}-{d(4)}", f"{d(3)}-{d(3)}-{d(4)}", f"{d(3)}.{d(3)}.{d(4)}",
                                     f"+1 {d(3)} {d(3)} {d(4)}"]),
        "FAX": lambda: f"{d(3)}-{d(3)}-{d(4)}",
        "EMAIL": lambda: f"{rng.choice(_BENCH_GIVEN).lower()}.{d(2)}@{rng.choice(['mail.com', 'clinic.org'])}",
        "URL": lambda: f"https://portal.example.org/p/{d(6)}",
        "SSN": lambda: f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "ACCOUNT": lambda: f"{rng.choice('ABCHKX')}{d(8)}",
        "MRN": lambda: rng.choice([d(7), f"MR{d(6)}"]),
        "LICENSE": lambda: f"{rng.choice('ABFM')}{rng.choice('ABCDEFG')}{d(7)}",
        "ADDRESS": lambda: f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
        "ZIP": lambda: d(5),
        "IP": lambda: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
        "AGE": lambda: str(rng.randint(90, 104)),
        "CASE_NUMBER": lambda: rng.choice([f"{rng.randint(1, 9)}:{d(2)}-cv-{d(5)}",
                                           f"{rng.randint(2000, 2024)}-CV-{d(6)}", f"{d(2)}-{d(4)}",
                                           f"{d(2)}-cv-{d(4)}"]),
    }
    return makers[kind]()


@dataclass
class Example:
    """A benchmark text and its gold spans ``(start, end, type)``."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)


def overall(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """Micro-averaged recall and precision over the types of a :func:`score` result."""
    gold = sum(r["gold"] for r in results.values())
    predicted = sum(r["predicted"] for r in results.values())
    hit = sum(r["recall"] * r["gold"] for r in results.values() if r["gold"])
    correct = sum(r["precision"] * r["predicted"] for r in results.values() if r["predicted"])
    return {"gold": gold, "predicted": predicted,
            "recall": hit / gold if gold else float("nan"),
            "precision": correct / predicted if predicted else float("nan")}


def generate(n: int = 1000, seed: int = 0) -> list[Example]:
    """``n`` labelled sentences."""
    rng = random.Random(seed)
    examples = []
    for _ in range(n):
        template = rng.choice(_TEMPLATES)
        examples.append(_fill(template, rng))
    return examples


def _fill(template: str, rng: random.Random) -> Example:
    import re
    text, spans, last = "", [], 0
    for match in re.finditer(r"\{(\w+)\}", template):
        text += template[last:match.start()]
        slot = match.group(1)
        kind = {"NAME2": "NAME", "CITY": "ADDRESS", "STATE": None, "PHONE10": "PHONE"}.get(slot, slot)
        value = (rng.choice(_CITIES) if slot == "CITY" else "IL" if slot == "STATE"
                 else "".join(rng.choice("0123456789") for _ in range(10)) if slot == "PHONE10"
                 else _value(kind, rng))
        if kind:
            spans.append((len(text), len(text) + len(value), kind))
        text += value
        last = match.end()
    return Example(text + template[last:], spans)


def score(examples: list[Example], policy: str | None = None) -> dict[str, dict[str, float]]:
    """Recall and precision per type: spans of the same type that overlap count as found.

    Args:
        examples: Labelled texts.
        policy: A redaction policy: only its types are looked for and counted as gold
            (default: every type, all detectors).
    """
    gold, hit, predicted, correct = Counter(), Counter(), Counter(), Counter()
    kinds = POLICIES[policy] if policy else frozenset(PHI_TYPES)
    for example in examples:
        found = detect_for(example.text, policy) if policy else detect(example.text)
        for start, end, kind in (s for s in example.spans if s[2] in kinds):
            gold[kind] += 1
            hit[kind] += any(s.kind == kind and s.start < end and start < s.end for s in found)
        for s in found:
            predicted[s.kind] += 1
            correct[s.kind] += any(k == s.kind and s.start < e and b < s.end for b, e, k in example.spans)
    return {kind: {"gold": gold[kind], "predicted": predicted[kind],
                   "recall": hit[kind] / gold[kind] if gold[kind] else float("nan"),
                   "precision": correct[kind] / predicted[kind] if predicted[kind] else float("nan")}
            for kind in PHI_TYPES if gold[kind] or predicted[kind]}
