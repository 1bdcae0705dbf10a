"""Name detection beyond titles and gazetteer: identifier context, lists, repeats, inverted forms.

The names here are invented and in no list of the detector, so only the rules can find them.
"""

import pytest

from engine.data.phi.detectors import detect
from engine.data.phi.names import GIVEN_NAMES, SURNAMES
from engine.data.phi.redact import redact

UNKNOWN = ("Zorya", "Quellmarsh", "Brightwater", "Ondrik")


def _names(text: str) -> list[str]:
    return [s.text for s in detect(text) if s.kind == "NAME"]


def test_the_invented_names_are_in_no_list():
    assert not {n.lower() for n in UNKNOWN} & (GIVEN_NAMES | SURNAMES)


@pytest.mark.parametrize("text", [
    "Zorya Quellmarsh (MRN: 4471203) reports dizziness since Monday.",
    "Zorya Quellmarsh, DOB 01/02/1950, was admitted.",
    "Zorya Quellmarsh, 72 y/o, presented with confusion.",
    "Zorya Quellmarsh (SSN 123-45-6789) is on file.",
])
def test_a_name_right_before_an_identifier(text):
    assert _names(text) == ["Zorya Quellmarsh"]


def test_every_name_of_a_list_when_one_of_them_is_known():
    text = "Seen with Emily Quellmarsh and Zorya Brightwater at the clinic."
    assert _names(text) == ["Emily Quellmarsh", "Zorya Brightwater"]
    text = "Present: Zorya Ondrik, Zorya Brightwater and Mr. Quellmarsh."
    assert _names(text) == ["Zorya Ondrik", "Zorya Brightwater", "Quellmarsh"]


def test_a_name_found_once_is_found_again_in_the_same_text():
    text = "Ms. Quellmarsh arrived at noon. Later Quellmarsh said the pain had eased."
    assert _names(text) == ["Quellmarsh", "Quellmarsh"]


@pytest.mark.parametrize("text, name", [
    ("Patient: QUELLMARSH, EMILY was seen.", "QUELLMARSH, EMILY"),
    ("Quellmarsh, Emily was seen.", "Quellmarsh, Emily"),
    ("Chart for Smith, Zorya reviewed.", "Smith, Zorya"),
])
def test_surname_comma_given_name(text, name):
    assert _names(text) == [name]


def test_possessive_stays_outside_the_name():
    assert _names("Patient Zorya Quellmarsh's daughter called.") == ["Zorya Quellmarsh"]
    assert redact("Patient Zorya Quellmarsh's daughter called.").text == \
        "Patient [NAME]'s daughter called."


@pytest.mark.parametrize("text", [
    "The patient is Zorya Quellmarsh.",
    "My name is Zorya Quellmarsh and I have a cough.",
    "Hon. Zorya Quellmarsh presided.",
    "Capt. Zorya Quellmarsh reported the fall.",
])
def test_more_context_words_and_titles(text):
    assert _names(text) == ["Zorya Quellmarsh"]


@pytest.mark.parametrize("text", [
    "Emergency Department staff and the Court of Appeals reviewed it.",
    "HIV, Hepatitis B and COPD were ruled out.",
    "The Court of Appeals affirmed under Section 12-345 of the Penal Code.",
    "Northwind Health System and Cedar Ridge Diagnostics signed the agreement.",
    "Metformin, Lisinopril and Atorvastatin were continued.",
    "Discharged to Lakewood, IL (ZIP 60614) on Friday.",
    "Seen in Cardiology, Oncology and Internal Medicine.",
    "Grace period: the Buyer and the Seller agree, Grace applies.",
])
def test_no_names_in_text_without_people(text):
    assert _names(text) == []


def test_benchmark_name_recall_floor_and_precision():
    from engine.data.phi.benchmark import generate, score

    names = score(generate(600, seed=2))["NAME"]
    assert names["recall"] >= 0.85 and names["precision"] >= 0.95
