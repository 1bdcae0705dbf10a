"""PHI/PII detectors, redaction modes and the synthetic benchmark."""

from engine.data.phi.benchmark import generate, score
from engine.data.phi.detectors import STRUCTURED_TYPES, detect
from engine.data.phi.redact import project_secret, pseudonym, redact, typed_view

NOTE = ("Patient John Smith (MRN: A1234567), DOB 03/14/1952, phone (555) 123-4567, "
        "fax: 555-987-6543, j.smith@mail.com, 42 Oak Tree Lane, Springfield, IL 62704. "
        "SSN 123-45-6789. Seen by Dr. Okafor on March 3, 2021. Case No. 2:19-cv-01234. "
        "A 93-year-old. http://x.org/a from 10.0.0.12. Acct # 99887766.")


def test_every_structured_type_is_found_in_a_note():
    kinds = {span.kind for span in detect(NOTE)}
    assert kinds >= {"NAME", "MRN", "DATE", "PHONE", "FAX", "EMAIL", "ADDRESS", "ZIP", "SSN",
                     "CASE_NUMBER", "AGE", "URL", "IP", "ACCOUNT"}


def test_placeholder_mode_keeps_no_identifier():
    text = redact(NOTE).text
    for secret in ("John", "A1234567", "555", "j.smith", "Oak Tree", "62704", "6789", "Okafor", "01234"):
        assert secret not in text
    assert "[NAME]" in text and "[SSN]" in text and "Dr. [NAME]" in text


def test_pseudonyms_are_consistent_per_key_and_differ_between_projects(tmp_path):
    key = project_secret(tmp_path / "p1")
    assert project_secret(tmp_path / "p1") == key
    first = redact("Patient John Smith called.", "pseudonym", key).text
    again = redact("Plaintiff John  Smith appeared.", "pseudonym", key).text
    name = first.split("Patient ")[1].split(" called")[0]
    assert name in again and "John" not in first
    other = project_secret(tmp_path / "p2")
    assert pseudonym("MRN", "A1", key) != pseudonym("MRN", "A1", other)
    assert (tmp_path / "p1" / "phi_pseudonym.key").stat().st_mode & 0o777 == 0o600


def test_flag_mode_leaves_text_and_typed_view_hides_values():
    result = redact("Call 555-123-4567 now", "flag")
    assert result.text == "Call 555-123-4567 now" and result.spans[0].kind == "PHONE"
    assert typed_view(result.text, result.spans) == "Call [PHONE] now"


def test_clinical_numbers_are_not_identifiers():
    assert detect("BP 128/84, HR 72, metformin 500 mg twice daily for 14 days.") == []


def test_benchmark_meets_the_structured_bar():
    results = score(generate(600, seed=1))
    for kind in STRUCTURED_TYPES:
        assert results[kind]["recall"] >= 0.95, kind
    assert 0.3 < results["NAME"]["recall"] <= 1.0
