import sqlite3

import pytest

from engine.store import StoreCorrupted, open_store, schema


def test_new_workspace_is_latest_with_wal_and_foreign_keys(tmp_path):
    db = open_store(tmp_path / "w.sqlite3")
    assert schema.version(db) == schema.LATEST
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    for table in ("projects", "datasets", "records", "jobs", "runs", "metrics",
                  "artifacts", "audit_log"):
        assert table in db.table_names()


def test_migration_1_creates_core_tables(tmp_path):
    db = open_store(tmp_path / "w.sqlite3", migrate=False)
    assert schema.migrate(db, target=1) == 1
    assert "datasets" in db.table_names()
    assert "parent_id" in db["datasets"].columns_dict
    assert not db["records"].indexes


def test_migration_2_keeps_data_backs_up_and_makes_audit_append_only(tmp_path):
    path = tmp_path / "w.sqlite3"
    db = open_store(path, migrate=False)
    schema.migrate(db, path, target=1)
    db["audit_log"].insert({"time": "t", "actor": "a", "action": "x", "object": "o",
                            "outcome": "ok", "detail": "{}"})
    assert schema.migrate(db, path) == schema.LATEST
    assert (tmp_path / "w.sqlite3.bak-v1").exists()
    assert db["audit_log"].count == 1
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_log")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit_log SET actor = 'someone else'")


def test_foreign_keys_are_enforced(tmp_path):
    db = open_store(tmp_path / "w.sqlite3")
    with pytest.raises(sqlite3.IntegrityError):
        db["datasets"].insert({"project_id": 999, "name": "x", "version": 1})


def test_newer_schema_is_refused_without_change(tmp_path):
    path = tmp_path / "w.sqlite3"
    db = open_store(path)
    db.execute(f"PRAGMA user_version = {schema.LATEST + 5}")
    db.close()
    with pytest.raises(RuntimeError, match="newer than this Enclave"):
        open_store(path)


def test_file_that_is_not_a_database_gets_a_clear_error(tmp_path):
    path = tmp_path / "w.sqlite3"
    path.write_bytes(b"this is a text file, not a workspace" * 200)
    with pytest.raises(StoreCorrupted, match="cannot be opened safely"):
        open_store(path)
    assert path.read_bytes().startswith(b"this is a text file")


def test_damaged_database_fails_integrity_check(tmp_path):
    path = tmp_path / "w.sqlite3"
    db = open_store(path)
    db["projects"].insert_all({"name": f"p{i}", "description": "x" * 400} for i in range(300))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, min(len(data), 6 * page)):
        data[offset] = 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupted):
        open_store(path)
