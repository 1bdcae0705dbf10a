"""One answer to "does this project redact, and how": the newest clean run's mode."""

from engine.data.phi.redact import project_secret, redact
from engine.data.privacy import (
    display_redactor,
    project_redactor,
    redact_for_display,
    redact_records,
    redact_value,
)
from engine.store import open_store, projects, runs

TEXT = "Patient Zebulon Quackenbush (MRN 48213377), phone (555) 013-7788."


def _project_with_clean(tmp_path, *modes: str):
    db = open_store(tmp_path / "w.sqlite3")
    project_id = projects.create(db, "Ward")
    for mode in modes:
        runs.create(db, project_id, "data.clean", "clean", {"redaction": mode})
    return db, project_id


def test_no_clean_or_a_clean_that_only_flags_does_not_redact(tmp_path):
    db, project_id = _project_with_clean(tmp_path)
    assert project_redactor(db, project_id) is None
    assert display_redactor(db, project_id)(TEXT) == TEXT
    db, project_id = _project_with_clean(tmp_path / "b", "placeholder", "flag")
    assert project_redactor(db, project_id) is None  # the newest clean decides
    assert redact_records(db, project_id, [{"prompt": TEXT}]) == [{"prompt": TEXT}]


def test_placeholder_mode_redacts_raw_text_and_leaves_redacted_text(tmp_path):
    db, project_id = _project_with_clean(tmp_path, "placeholder")
    shown = project_redactor(db, project_id)
    assert shown(TEXT) == "Patient [NAME] (MRN [MRN]), phone [PHONE]."
    assert shown(shown(TEXT)) == shown(TEXT)
    row = {"prompt": TEXT, "turns": [{"content": TEXT}], "n": 3}
    assert "Quackenbush" not in str(redact_value(row, shown))
    assert redact_records(db, project_id, [{"prompt": TEXT, "response": "ok", "kind": "ward"}]) == [
        {"prompt": shown(TEXT), "response": "ok", "kind": "ward"}]


def test_pseudonym_mode_uses_the_project_key_and_keeps_pseudonyms(tmp_path, monkeypatch):
    monkeypatch.setenv("ENCLAVE_HOME", str(tmp_path / "home"))
    db, project_id = _project_with_clean(tmp_path, "pseudonym")
    from engine import paths

    key = project_secret(paths.project_dir(project_id))
    cleaned = redact(TEXT, "pseudonym", key).text  # what the clean stored
    shown = project_redactor(db, project_id)
    assert shown(TEXT) == cleaned
    assert shown(cleaned) == cleaned
    assert redact_for_display("Mr. Robin Ashdown called.", "pseudonym", key) == \
        "Mr. Robin Ashdown called."
