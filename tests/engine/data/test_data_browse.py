"""What the dataset browser shows in a redacting project: redacted text, no search over raw
text, what cleaning changed, and a redacted quarantine export."""

import csv

from engine import paths
from engine.data.browse import (
    Shower,
    export_quarantine_csv,
    record_change,
    search_refusal,
    version_redacted,
)
from engine.store import datasets, open_store, projects, record_search, runs


def _redacting_project(db):
    project_id = projects.create(db, "Ward")
    raw = [{"prompt": "Anna Berg, born 12/03/1961, asks about   fever", "response": "Rest.",
            "_line": 1},
           {"prompt": "Cough for a week", "response": "Fluids.", "_line": 2}]
    pool = datasets.add_version(db, project_id, "notes", "import", raw, ["a", "b"], role="pool")
    datasets.add_quarantine(db, pool, [{"file": "/home/nurse/notes.jsonl", "line": 3,
                                        "field": "response", "reason": "empty field",
                                        "raw": '{"prompt": "Patient Anna Berg called", "response": ""}'}])
    cleaned = [{"prompt": "[NAME], born [DATE], asks about fever", "response": "Rest.",
                "_line": 1}]
    clean = datasets.add_version(db, project_id, "notes-clean", "clean", cleaned, ["c"],
                                 role="train", parent_id=pool,
                                 recipe={"clean": {"redaction": "placeholder"}})
    runs.create(db, project_id, "data.clean", "clean", {"redaction": "placeholder"})
    return project_id, pool, clean


def test_raw_text_is_shown_redacted_and_not_searchable(enclave_home, tmp_path):
    db = open_store(paths.workspace_db())
    project_id, pool, clean = _redacting_project(db)
    shower = Shower(db, project_id)
    assert shower.redacts
    first = shower.row(record_search.page(db, pool)[0])
    assert "Anna" not in first.preview and "[NAME]" in first.preview
    assert not version_redacted(db, pool) and version_redacted(db, clean)
    assert "Search is off" in search_refusal(db, project_id, pool)
    assert search_refusal(db, project_id, clean) is None
    change = record_change(db, shower, clean, record_search.page(db, clean)[0])
    assert change.placeholders == ["[DATE]", "[NAME]"]
    assert "Anna" not in change.before and "fever" in change.before and change.changed
    out = tmp_path / "bad.csv"
    assert export_quarantine_csv(db, project_id, pool, out) == 1
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["file", "line", "field", "reason", "raw"]
    assert rows[1][:4] == ["notes.jsonl", "3", "response", "empty field"]
    assert "Anna" not in rows[1][4] and "[NAME]" in rows[1][4]


def test_a_project_that_does_not_redact_shows_and_searches_as_stored(enclave_home):
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Contracts")
    pool = datasets.add_version(db, project_id, "c", "import",
                                [{"text": "Anna Berg signs", "_line": 1}], ["a"], role="pool")
    assert search_refusal(db, project_id, pool) is None
    assert Shower(db, project_id).row(record_search.page(db, pool)[0]).preview == "Anna Berg signs"
