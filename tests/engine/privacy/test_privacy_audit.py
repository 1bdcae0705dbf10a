"""The audit chain: edits made behind Enclave's back are found by verify()."""

from __future__ import annotations

import sqlite3

import pytest

from engine import paths
from engine.store import audit, open_store, schema


@pytest.fixture
def logged():
    path = paths.workspace_db()
    db = open_store(path)
    for number in range(1, 6):
        audit.record(db, "dataset.create", f"dataset:{number}", project_id=1, name=f"v{number}")
    db.conn.close()
    return path


def _behind_the_back(path, *statements) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    conn.execute("DROP TRIGGER IF EXISTS audit_head_no_delete")
    for statement in statements:
        conn.execute(statement)
    conn.close()


def _problems(path) -> list[audit.Break]:
    return audit.verify(open_store(path))


def test_rows_carry_user_machine_and_chain(logged):
    rows = audit.entries(open_store(logged))
    assert all(row["actor"] == audit.actor() and row["host"] == audit.host() for row in rows)
    assert rows[-1]["prev_hash"] == audit.GENESIS
    assert rows[0]["prev_hash"] == rows[1]["row_hash"]
    assert _problems(logged) == []


def test_edited_row_is_found(logged):
    _behind_the_back(logged, "UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
    assert [b.row_id for b in _problems(logged)] == [3]


def test_inserted_row_is_found(logged):
    _behind_the_back(logged, "INSERT INTO audit_log (id, time, actor, host, action, object, "
                     "outcome, detail, prev_hash, row_hash) SELECT 6, time, actor, host, "
                     "'model.export', 'run:9', 'ok', '{}', row_hash, 'forged' FROM audit_log "
                     "WHERE id = 5")
    assert 6 in [b.row_id for b in _problems(logged)]


def test_deleted_row_is_found(logged):
    _behind_the_back(logged, "DELETE FROM audit_log WHERE id = 2")
    problems = _problems(logged)
    assert [b.row_id for b in problems] == [3, 3] and "missing" in problems[0].problem


def test_rows_removed_at_the_end_are_found(logged):
    _behind_the_back(logged, "DELETE FROM audit_log WHERE id >= 4")
    assert "ends at row 3" in _problems(logged)[0].problem


def test_the_triggers_still_refuse_edits_through_enclave(logged):
    db = open_store(logged)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit_log SET actor = 'x' WHERE id = 1")


def test_filters_by_project_user_and_action(logged):
    db = open_store(logged)
    audit.record(db, "model.export", "run:3", project_id=2)
    assert len(audit.entries(db, project="1")) == 5
    assert [r["action"] for r in audit.entries(db, action="model")] == ["model.export"]
    assert audit.entries(db, user="nobody-else") == []


def test_migration_chains_rows_written_before_it(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = open_store(path, migrate=False)
    schema.migrate(db, target=7)
    for number in range(3):
        db["audit_log"].insert({"time": audit.now(), "actor": "nurse", "action": "project.create",
                                "object": f"project:{number}", "outcome": "ok", "detail": "{}"})
    schema.migrate(db)
    assert audit.verify(db) == []
    audit.record(db, "project.create", "project:9")
    assert audit.verify(db) == [] and db["audit_log"].count == 4


def test_a_row_written_while_the_chain_is_checked_is_not_a_break(logged, monkeypatch):
    """The check runs on a worker while the window (or a job) keeps writing: it reads the
    rows and the head from one snapshot, so a row added meanwhile is not taken for
    tampering, and the row count it reports is the one it checked."""
    writer = open_store(logged)
    hash_row = audit.row_hash
    written = []

    def hash_and_write(row, prev):
        if not written:
            written.append(True)  # before writing: record() hashes its own row too
            audit.record(writer, "project.create", "project:9", project_id=9)
        return hash_row(row, prev)

    monkeypatch.setattr(audit, "row_hash", hash_and_write)
    problems, rows = audit.check(open_store(logged))
    assert written and problems == [] and rows == 5
    monkeypatch.setattr(audit, "row_hash", hash_row)
    assert audit.check(open_store(logged)) == ([], 6)
