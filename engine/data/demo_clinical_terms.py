"""Vocabulary of the clinical demo set: conditions, drugs and triage complaints.

Plain general-audience medicine for a demo; not clinical guidance. The tables live
in ``resources/demo/clinical_terms.json``; this module turns them into records.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.resources import demo_terms


@dataclass(frozen=True)
class Condition:
    name: str
    symptoms: tuple[str, ...]
    drugs: tuple[tuple[str, str, str], ...]  # (drug, dose, common side effect)
    advice: tuple[str, ...]
    red_flags: tuple[str, ...]
    follow_up: str
    explanation: str


@dataclass(frozen=True)
class Complaint:
    complaint: str
    base_level: int  # Emergency Severity Index, 1 most urgent
    history: tuple[str, ...]
    assessment: str
    actions: tuple[str, ...]


_TERMS = demo_terms("clinical_terms")
CONDITIONS = tuple(Condition(**item) for item in _TERMS["conditions"])
COMPLAINTS = tuple(Complaint(**item) for item in _TERMS["complaints"])
ESI_LABELS = {int(level): label for level, label in _TERMS["esi_labels"].items()}
KIND_WEIGHTS = dict(_TERMS["kind_weights"])
OPENINGS = _TERMS["openings"]
DURATIONS = _TERMS["durations"]
RELATIVES = _TERMS["relatives"]
ACTIVITIES = _TERMS["activities"]
