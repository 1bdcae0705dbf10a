"""Runs a picker may offer: finished with a model (or, for evaluations, with outputs)."""

import pytest

from engine.store import datasets, evaluations, jobs, open_store, projects, runs


@pytest.fixture
def db(tmp_path):
    return open_store(tmp_path / "w.sqlite3")


def _run(db, project_id, tmp_path, name, state="succeeded", model=True, **recipe):
    job_id = jobs.create(db, "train", {}, project_id)
    jobs.finish(db, job_id, state)
    run_id = runs.create(db, project_id, "train", name, recipe, job_id)
    if model:
        folder = tmp_path / f"adapter-{run_id}"
        folder.mkdir()
        runs.add_artifact(db, project_id, "lora-adapter", folder, run_id)
    return run_id


def test_only_finished_runs_with_a_model_newest_first(db, tmp_path):
    pid = projects.create(db, "Ward")
    data = datasets.add_version(db, pid, "clinical-train", "split", [{"prompt": "a"}], ["h"],
                                role="train")
    done = _run(db, pid, tmp_path, "first", dataset_id=data, train={"method": "lora"})
    _run(db, pid, tmp_path, "cancelled", state="cancelled")
    _run(db, pid, tmp_path, "failed", state="failed")
    _run(db, pid, tmp_path, "no model", model=False)
    newer = _run(db, pid, tmp_path, "second", dataset_id=data, train={"method": "qlora"})
    rows = runs.usable_runs(db, pid, ("train",))
    assert [r["id"] for r in rows] == [newer, done]
    assert rows[1]["label"].startswith(f"Run {done}: lora · clinical-train v1 · finished · ")
    assert rows[0]["label"][-16:] == rows[0]["created_at"][:16].replace("T", " ")


def test_a_model_folder_gone_from_disk_is_not_offered(db, tmp_path):
    pid = projects.create(db, "Ward")
    run_id = _run(db, pid, tmp_path, "moved")
    (tmp_path / f"adapter-{run_id}").rmdir()
    assert runs.usable_runs(db, pid) == []


def test_compression_names_its_variant_and_the_source_data(db, tmp_path):
    pid = projects.create(db, "Ward")
    data = datasets.add_version(db, pid, "notes", "import", [{"prompt": "a"}], ["h"],
                                role="pool")
    source = _run(db, pid, tmp_path, "tuned", dataset_id=data, train={"method": "lora"})
    run_id = runs.create(db, pid, "compress", "8-bit of run 1",
                         {"method": "quantize-8bit", "source_run_id": source})
    runs.set_summary(db, run_id, {"label": "8-bit"})
    (tmp_path / "q").mkdir()
    runs.add_artifact(db, pid, "compressed-model", tmp_path / "q", run_id)
    rows = runs.usable_runs(db, pid, ("train", "compress"))
    assert rows[0]["label"].startswith(f"Run {run_id}: 8-bit · notes v1 · finished")


def test_evaluations_count_when_they_have_outputs(db):
    pid = projects.create(db, "Ward")
    empty = runs.create(db, pid, "evaluate", "evaluate run 1")
    full = runs.create(db, pid, "evaluate", "evaluate run 1")
    runs.set_summary(db, full, {"source_run": 1, "items": 1, "test": "ward-test v2"})
    evaluations.add_outputs(db, full, [{"item": 0, "side": "tuned", "prompt": "p",
                                        "output": "o"}])
    rows = runs.usable_runs(db, pid, ("evaluate",))
    assert [r["id"] for r in rows] == [full] and empty not in [r["id"] for r in rows]
    assert "evaluation of run 1 · 1 items of ward-test v2" in rows[0]["label"]
