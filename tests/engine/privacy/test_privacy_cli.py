"""The privacy commands, run through `enclave …` in this process."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from engine import paths
from engine.cli import main
from engine.cli.errors import CommandError
from engine.cli.export_guard import check_memorization
from engine.compress.sealed import seal_folder
from engine.store import audit, keys, open_store, projects, runs


@pytest.fixture
def phrase_files(tmp_path):
    files = {}
    for name, text in (("right", "kestrel orchard lantern"), ("wrong", "not it"),
                       ("new", "heron quarry violin")):
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text(text + "\n")
    return files


def _workspace_with_project():
    db = open_store(paths.workspace_db())
    projects.create(db, "Ward", "MRN 90817263")
    db.conn.close()


def test_encrypt_then_every_command_needs_the_passphrase(phrase_files, capsys):
    _workspace_with_project()
    assert main(["workspace", "encrypt", "--new-passphrase-file", str(phrase_files["right"])]) == 0
    assert b"90817263" not in paths.workspace_db().read_bytes()
    keys.forget(paths.workspace_db())
    assert main(["--passphrase-file", str(phrase_files["wrong"]), "projects"]) == 2
    assert "does not open the workspace" in capsys.readouterr().err
    assert main(["projects"]) == 1  # no terminal to ask on
    assert "--passphrase-file" in capsys.readouterr().err
    assert main(["--passphrase-file", str(phrase_files["right"]), "projects"]) == 0
    assert "Ward" in capsys.readouterr().out
    keys.forget(paths.workspace_db())
    assert main(["--passphrase-file", str(phrase_files["right"]), "workspace", "rekey",
                 "--new-passphrase-file", str(phrase_files["new"])]) == 0
    keys.forget(paths.workspace_db())
    assert main(["--passphrase-file", str(phrase_files["new"]), "audit", "verify"]) == 0
    actions = [r["action"] for r in audit.entries(open_store(paths.workspace_db()))]
    assert {"workspace.encrypt", "workspace.rekey"} <= set(actions)


def test_audit_verify_exit_code_and_csv(tmp_path, capsys):
    _workspace_with_project()
    assert main(["audit", "verify"]) == 0
    out = tmp_path / "audit.csv"
    assert main(["audit", "list", "--action", "project", "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["action"] == "project.create" and rows[0]["row_hash"]
    conn = sqlite3.connect(paths.workspace_db())
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET outcome = 'failed' WHERE id = 1")
    conn.commit()
    conn.close()
    assert main(["audit", "verify"]) == 3
    assert "row 1: its content was changed" in capsys.readouterr().out


def test_purge_raw_asks_for_confirmation(capsys):
    _workspace_with_project()
    assert main(["data", "purge-raw", "Ward"]) == 1
    assert "--yes" in capsys.readouterr().err
    assert main(["data", "purge-raw", "Ward", "--yes"]) == 1
    assert "did not redact" in capsys.readouterr().err


def test_export_open(tmp_path, phrase_files):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    archive = seal_folder(folder, tmp_path / "model.enclave-sealed", "kestrel orchard lantern")
    assert main(["export-open", str(archive), str(tmp_path / "opened"),
                 "--archive-passphrase-file", str(phrase_files["wrong"])]) == 1
    assert main(["export-open", str(archive), str(tmp_path / "opened"),
                 "--archive-passphrase-file", str(phrase_files["right"])]) == 0
    assert (tmp_path / "opened" / "model" / "config.json").read_text() == "{}"


def test_export_of_a_flagged_model_needs_an_acknowledgement():
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward")
    run = runs.create(db, project_id, "train", "t")
    check = runs.create(db, project_id, "privacy", "check")
    side = {"identifier": {"probes": 3, "exact": 0.0, "partial": 0.0},
            "canary": {"probes": 1, "exact": 1.0, "partial": 1.0, "exposure_max": 6.6}}
    runs.set_summary(db, check, {"source_run": run, "flagged": True, "sides": {"tuned": side}})
    with pytest.raises(CommandError, match="flagged this model"):
        check_memorization(db, run, acknowledged=False)
    check_memorization(db, run, acknowledged=True)
    assert audit.entries(db, action="model.export.acknowledged")[0]["object"] == f"run:{run}"
