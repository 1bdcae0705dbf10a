"""A workspace written by the previous release opens with the new code: migrated to
the latest schema, data kept, and the pre-upgrade copy left beside it."""

import json
import sqlite3

from engine.cli import main
from engine.store import open_store, projects, schema


def test_previous_schema_workspace_is_migrated_keeping_data_and_backup(enclave_home, capsys):
    path = enclave_home / "workspace.sqlite3"
    old = schema.LATEST - 1
    db = open_store(path, migrate=False)
    assert schema.migrate(db, path, target=old) == old
    projects.create(db, "Ward A", "written by the previous release")
    db.conn.close()

    assert main(["projects", "--json"]) == 0  # the normal entry point opens and upgrades
    listed = json.loads(capsys.readouterr().out)["projects"]
    assert [p["name"] for p in listed] == ["Ward A"]

    db = open_store(path)
    assert schema.version(db) == schema.LATEST
    assert projects.find(db, "Ward A")["description"] == "written by the previous release"
    backup = path.with_name(f"workspace.sqlite3.bak-v{old}")
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == old
        assert conn.execute("SELECT name FROM projects").fetchall() == [("Ward A",)]
