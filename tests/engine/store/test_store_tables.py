import subprocess
import sys
import textwrap

import pytest

from engine.store import audit, datasets, open_store, projects, runs


@pytest.fixture
def db(tmp_path):
    return open_store(tmp_path / "w.sqlite3")


def test_project_create_list_delete_with_audit(db):
    pid = projects.create(db, "Clinic notes")
    assert [p["name"] for p in projects.list_all(db)] == ["Clinic notes"]
    with pytest.raises(projects.ProjectError, match="already exists"):
        projects.create(db, "Clinic notes")
    with pytest.raises(projects.ProjectError, match="needs a name"):
        projects.create(db, "  ")
    ds = datasets.add_version(db, pid, "raw", "import", [{"prompt": "a", "_line": 3}], ["h1"], role="pool")
    run = runs.create(db, pid, "train", "lora")
    runs.log_metric(db, run, "loss", 1, 2.5)
    projects.delete(db, pid)
    assert projects.list_all(db) == []
    assert db["records"].count == 0 and db["metrics"].count == 0
    actions = [e["action"] for e in audit.entries(db)]
    assert actions[0] == "project.delete" and "dataset.create" in actions
    assert audit.entries(db)[0]["actor"]
    assert ds


def test_dataset_versions_keep_parent_recipe_hash_and_lines(db):
    pid = projects.create(db, "p")
    first = datasets.add_version(db, pid, "clinical", "import",
                                 [{"prompt": "a", "response": "b", "_line": 7}], ["h1"], role="pool")
    second = datasets.add_version(db, pid, "clinical", "clean", [], [],
                                  parent_id=first, recipe={"dedup": True}, role="train")
    rows = datasets.list_for_project(db, pid)
    assert [r["version"] for r in rows] == [1, 2]
    assert rows[1]["parent_id"] == first and '"dedup": true' in rows[1]["recipe"]
    assert rows[0]["content_hash"] != rows[1]["content_hash"]
    assert datasets.records(db, first) == [{"prompt": "a", "response": "b", "_line": 7}]
    assert second


def test_failed_dataset_write_leaves_nothing(db):
    pid = projects.create(db, "p")
    with pytest.raises(TypeError):
        datasets.add_version(db, pid, "bad", "import", [{"x": object()}], ["h"], role="pool")
    assert db["datasets"].count == 0 and db["records"].count == 0


def test_artifact_records_path_sha_and_size(db, tmp_path):
    pid = projects.create(db, "p")
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"abc")
    art = runs.add_artifact(db, pid, "adapter", folder, note="x")
    row = db["artifacts"].get(art)
    assert row["size_bytes"] == 3 and len(row["sha256"]) == 64


def test_reader_sees_consistent_data_while_another_process_writes(tmp_path):
    path = tmp_path / "w.sqlite3"
    db = open_store(path)
    pid = projects.create(db, "p")
    run = runs.create(db, pid, "train", "r")
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        from engine.store import open_store, runs
        db = open_store({str(path)!r}, migrate=False)
        for step in range(400):
            runs.log_metric(db, {run}, "loss", step, 1.0 / (step + 1))
    """)])
    seen = 0
    while writer.poll() is None:
        points = runs.series(db, run, "loss")
        assert [s for s, _ in points] == list(range(len(points)))
        seen = max(seen, len(points))
    assert writer.returncode == 0
    assert len(runs.series(db, run, "loss")) == 400


def test_deleting_a_project_removes_its_evaluation_outputs_and_reviews(db):
    pid = projects.create(db, "p")
    keep = projects.create(db, "other")
    run, other_run = runs.create(db, pid, "evaluate", "e"), runs.create(db, keep, "evaluate", "e")
    for run_id in (run, other_run):
        db["eval_outputs"].insert({"run_id": run_id, "item": 0, "side": "base", "output": "x"})
        db["reviews"].insert({"run_id": run_id, "item": 0, "side": "base", "rating": 4,
                              "reviewer": "dr"})
    projects.delete(db, pid)
    assert [r["run_id"] for r in db["eval_outputs"].rows] == [other_run]
    assert [r["run_id"] for r in db["reviews"].rows] == [other_run]
