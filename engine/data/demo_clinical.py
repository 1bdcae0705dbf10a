"""Seeded demo clinical instruction set: patient questions, discharge instructions, triage notes.

Every name, record number, phone number and date is invented. Records are
``{"id", "kind", "prompt", "response"}``; the file carries the usual export
faults (see :mod:`engine.data.demo_common`).
"""

from __future__ import annotations

import random
from pathlib import Path

from engine.data.demo_clinical_terms import (
    ACTIVITIES as _ACTIVITIES,
)
from engine.data.demo_clinical_terms import (
    COMPLAINTS,
    CONDITIONS,
    ESI_LABELS,
    Condition,
)
from engine.data.demo_clinical_terms import (
    DURATIONS as _DURATIONS,
)
from engine.data.demo_clinical_terms import (
    KIND_WEIGHTS as _KIND_WEIGHTS,
)
from engine.data.demo_clinical_terms import (
    OPENINGS as _OPENINGS,
)
from engine.data.demo_clinical_terms import (
    RELATIVES as _RELATIVES,
)
from engine.data.demo_common import (
    PII_KEY,
    DemoStats,
    fake_birth_date,
    fake_date,
    fake_mrn,
    fake_name,
    fake_phone,
    render_lines,
    unique_count,
    write_lines,
)

IDENTIFIER_RATE = 0.25


def write_clinical(path: Path, n: int = 2400, seed: int = 0) -> DemoStats:
    """Write the seeded demo clinical instruction set as JSONL.

    Args:
        path: Target file; written through a temporary file and a rename.
        n: Lines to write, faulty ones included.
        seed: Seed of the generator; the same seed gives the same file.

    Returns:
        Counts of the records and of each injected fault.

    Raises:
        ValueError: If ``n`` is below 1.
    """
    rng = random.Random(seed)
    base = [clinical_record(rng) for _ in range(unique_count(n))]
    lines, stats = render_lines(base, n, rng, ("prompt", "response"), "response", _chart_sentence, "clin")
    write_lines(path, lines)
    return stats


def clinical_record(rng: random.Random) -> dict:
    """One clean clinical record (without id) of a randomly chosen kind."""
    kind = rng.choices(list(_KIND_WEIGHTS), weights=list(_KIND_WEIGHTS.values()))[0]
    build = {"patient_question": _patient_question, "discharge": _discharge, "triage": _triage}[kind]
    prompt, response = build(rng)
    record = {"kind": kind, "prompt": prompt, "response": response}
    if rng.random() < IDENTIFIER_RATE:
        record["prompt"] = _identify(rng, kind) + " " + prompt
        record[PII_KEY] = True
    return record


def _identify(rng: random.Random, kind: str) -> str:
    name, mrn = fake_name(rng), fake_mrn(rng)
    if kind == "patient_question":
        return rng.choice((f"Hi, this is {name} ({mrn}).", f"My name is {name}, date of birth "
                           f"{fake_birth_date(rng)}.", f"{name} here, you can call me at {fake_phone(rng)}."))
    if kind == "discharge":
        return f"Patient: {name}, {mrn}, admitted {fake_date(rng)}."
    return f"Pt {name}, {mrn}, arrived {fake_date(rng)}, contact {fake_phone(rng)}."


def _patient_question(rng: random.Random) -> tuple[str, str]:
    cond = rng.choice(CONDITIONS)
    drug, dose, side_effect = rng.choice(cond.drugs)
    symptom, symptom2 = rng.sample(cond.symptoms, 2)
    prompts = (
        f"I was diagnosed with {cond.name} {rng.choice(_DURATIONS)} ago and started {drug}. "
        f"What should I watch out for?",
        f"Is it normal to have {side_effect} since I started taking {drug}?",
        f"I have had {symptom} and {symptom2} for {rng.choice(_DURATIONS)}. Could this be {cond.name}?",
        f"How should I take {drug} for my {cond.name}?",
        f"My {rng.choice(_RELATIVES)} has {cond.name} and the {symptom} got worse today. "
        f"When should we go to the emergency department?",
        f"Can I {rng.choice(_ACTIVITIES)} while I am being treated for {cond.name}?",
    )
    advice = rng.sample(cond.advice, 2)
    flags = rng.sample(cond.red_flags, 2)
    response = (
        f"{rng.choice(_OPENINGS)} {cond.explanation.capitalize()}. "
        f"{drug.capitalize()} is usually taken as {dose}; some people notice {side_effect}, "
        f"which often settles. "
        f"It helps to {advice[0]} and {advice[1]}. "
        f"Seek urgent care if you notice {flags[0]} or {flags[1]}. "
        f"Please follow up with {cond.follow_up}."
    )
    return rng.choice(prompts), response


def _discharge(rng: random.Random) -> tuple[str, str]:
    cond = rng.choice(CONDITIONS)
    age, sex = rng.randint(19, 92), rng.choice(("man", "woman"))
    days = rng.randint(1, 9)
    meds = "; ".join(f"{d} {dose}" for d, dose, _ in cond.drugs)
    prompt = rng.choice((
        f"Write discharge instructions for a {age}-year-old {sex} admitted for {days} days with {cond.name}.",
        f"Discharge summary needed: {age}-year-old {sex}, {cond.name}, length of stay {days} days. "
        f"Treated with {cond.drugs[0][0]}.",
        f"Please draft patient-friendly discharge instructions. Diagnosis: {cond.name}. Age {age}.",
    ))
    flags = ", ".join(cond.red_flags[:-1]) + f" or {cond.red_flags[-1]}"
    response = (
        f"Diagnosis: {cond.name}. {cond.explanation.capitalize()}. "
        f"Medications: {meds}. "
        f"Home care: {'; '.join(rng.sample(cond.advice, 2))}. "
        f"Return to the emergency department if you have {flags}. "
        f"Follow-up: {cond.follow_up}."
    )
    return prompt, response


def _triage(rng: random.Random) -> tuple[str, str]:
    case = rng.choice(COMPLAINTS)
    unstable = rng.random() < 0.25
    age, sex = rng.randint(18, 95), rng.choice(("M", "F"))
    sbp = rng.randint(78, 89) if unstable else rng.randint(105, 165)
    hr = rng.randint(121, 140) if unstable else rng.randint(60, 110)
    spo2 = rng.randint(85, 91) if unstable else rng.randint(94, 100)
    temp = round(rng.uniform(36.2, 39.4), 1)
    prompt = (
        f"Triage note: {age}{sex} presents with {case.complaint} for {rng.randint(1, 72)} hours. "
        f"Vitals: BP {sbp}/{rng.randint(50, 95)}, HR {hr}, RR {rng.randint(12, 28)}, "
        f"Temp {temp} C, SpO2 {spo2}%. History: {rng.choice(case.history)}."
    )
    level = max(1, case.base_level - 1) if unstable else case.base_level
    vitals_note = "abnormal vital signs raise the priority" if unstable else "vital signs are stable"
    response = (
        f"Triage level: ESI {level} ({ESI_LABELS[level]}). "
        f"Assessment: {case.assessment}; {vitals_note}. "
        f"Immediate actions: {', '.join(case.actions)}. "
        f"Disposition: {_disposition(level)}."
    )
    return prompt, response


def _disposition(level: int) -> str:
    if level <= 2:
        return "resuscitation or acute bed now, physician to see immediately"
    if level == 3:
        return "acute bed when available, reassess vitals every 30 minutes"
    return "fast track area, reassess if symptoms change"


def _chart_sentence(rng: random.Random) -> str:
    cond: Condition = rng.choice(CONDITIONS)
    return (f"Progress note {fake_date(rng)}: patient with {cond.name} reports {rng.choice(cond.symptoms)}; "
            f"continue {rng.choice(cond.drugs)[0]} and {rng.choice(cond.advice)}.")
