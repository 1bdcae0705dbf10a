"""Purge after a redacting clean: planted identifiers leave the database and its WAL."""

from __future__ import annotations

import json

import pytest

from engine import paths
from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.importer import import_file
from engine.data.purge import PurgeRefused, purge_raw
from engine.store import audit, datasets, encryption, open_store, projects

MRNS = [f"MRN {8_300_000 + i * 7919}" for i in range(12)]
NAMES = ["Zebulon Quackenbush", "Perpetua Vanterpool"]


def _workspace_bytes() -> bytes:
    path = paths.workspace_db()
    return b"".join(item.read_bytes() for item in path.parent.glob(path.name + "*"))


def found(blob: bytes) -> int:
    """Bytes of planted identifiers found in ``blob``."""
    needles = [m.split()[1].encode() for m in MRNS] + [n.split()[1].encode() for n in NAMES]
    return sum(blob.count(needle) * len(needle) for needle in needles)


def _project(tmp_path):
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward 9")
    rows = [{"prompt": f"Patient {NAMES[i % 2]}, {mrn}, reports pain number {i} after surgery "
                       "and asks about the discharge plan for the coming week",
             "response": f"Answer {i}: rest, fluids, review in {i + 2} days."}
            for i, mrn in enumerate(MRNS)]
    source = tmp_path / "ward.jsonl"
    source.write_text("\n".join(json.dumps(row) for row in rows) + "\n"
                      + '{"prompt": "Zebulon Quackenbush MRN 8300000", broken\n')
    import_file(db, project_id, source, task="instruction", test_fraction=0.2, seed=1)
    return db, project_id


def test_purge_removes_raw_versions_and_quarantine_and_keeps_counts(tmp_path):
    db, project_id = _project(tmp_path)
    run_clean(db, project_id, CleanRecipe(tokenizer="words", redaction="placeholder"))
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    before = found(_workspace_bytes())
    assert before > 0
    raw_ids = [row["id"] for row in db["datasets"].rows_where("kind != 'clean'")]
    counts = {i: datasets.get(db, i)["record_count"] for i in raw_ids}
    result = purge_raw(db, project_id)
    assert sorted(result["versions"]) == sorted(raw_ids) and result["quarantined"] == 1
    assert found(_workspace_bytes()) == 0
    for dataset_id, count in counts.items():
        row = db["datasets"].get(dataset_id)
        assert row["state"] == "purged" and row["record_count"] == count and row["content_hash"]
    assert db["quarantine"].count == 1  # the line, field and reason stay
    assert [r["action"] for r in audit.entries(db, action="data.purge_raw")] == ["data.purge_raw"]
    assert audit.verify(db) == []
    print(f"identifier bytes in workspace: before purge {before}, after {found(_workspace_bytes())}")


def test_purge_without_a_redacting_clean_is_refused_and_changes_nothing(tmp_path):
    db, project_id = _project(tmp_path)
    run_clean(db, project_id, CleanRecipe(tokenizer="words", redaction="flag"))
    with pytest.raises(PurgeRefused, match="did not redact"):
        purge_raw(db, project_id)
    assert db["datasets"].count_where("state = 'purged'") == 0


def test_encrypted_workspace_holds_no_identifier_bytes_at_all(tmp_path):
    encryption.create(paths.workspace_db(), "ward nine passphrase")
    db, project_id = _project(tmp_path)
    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    assert found(_workspace_bytes()) == 0
