"""delete-project removes the project's own files in the workspace, and nothing outside it."""

from __future__ import annotations

from engine import paths
from engine.cli import main
from engine.store import open_store, projects, runs


def test_delete_project_removes_its_folder_but_not_files_elsewhere(tmp_path, capsys):
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "Ward demo")
    keep = projects.create(db, "Ward other")
    own = paths.project_dir(pid)
    (own / "demo-1").mkdir()
    (own / "demo-1" / "clinical_export.jsonl").write_text('{"prompt": "raw", "response": "x"}\n')
    (own / "runs" / "run-1" / "adapter").mkdir(parents=True)
    (own / "runs" / "run-1" / "adapter" / "adapter_model.safetensors").write_bytes(b"w")
    export = tmp_path / "user-exports" / "ward-model"
    export.mkdir(parents=True)
    (export / "model.safetensors").write_bytes(b"weights the user keeps")
    runs.add_artifact(db, pid, "export", export)
    (own / "linked-export").symlink_to(export)
    other = paths.project_dir(keep) / "notes.txt"
    other.write_text("another project's file")

    assert main(["delete-project", "Ward demo"]) == 0

    assert not own.exists()
    assert (export / "model.safetensors").read_bytes() == b"weights the user keeps"
    assert other.read_text() == "another project's file"
    assert "deleted project" in capsys.readouterr().out


def test_a_project_folder_that_is_a_link_is_unlinked_not_followed(tmp_path):
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "Linked")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("kept")
    folder = paths.home() / "projects" / str(pid)
    folder.rmdir() if folder.is_dir() else None
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.symlink_to(elsewhere)

    projects.delete(db, pid)

    assert not folder.exists() and not folder.is_symlink()
    assert (elsewhere / "keep.txt").read_text() == "kept"
