"""Stages write in committed batches into "building" versions that no reader sees, and
publish them at the end; a cancel, a broken file or a kill leaves the project as it was."""

from __future__ import annotations

import json

import pytest

from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.importer import import_file
from engine.data.records import DataFormatError
from engine.progress import Cancelled, Reporter
from engine.store import dataset_stream, datasets, open_store, projects


def _rows(count: int) -> list[dict]:
    return [{"prompt": f"question {i} about item {i * 7} and case {i * 13}",
             "response": f"answer {i} with detail {i * 3}"} for i in range(count)]


def _write(path, rows, tail: str = "") -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)


def _counts(db) -> dict:
    return {table: db[table].count for table in ("datasets", "records", "quarantine", "runs")}


def _cancel_after(events: int) -> Reporter:
    seen = []
    return Reporter(seen.append, lambda: len(seen) >= events)


@pytest.fixture
def project(tmp_path):
    db = open_store(tmp_path / "w.sqlite3")
    return db, projects.create(db, "Ward")


def test_a_cancelled_import_leaves_nothing(project, tmp_path):
    db, pid = project
    source = tmp_path / "big.jsonl"
    _write(source, _rows(12_000))
    before = _counts(db)
    with pytest.raises(Cancelled):
        import_file(db, pid, source, task="instruction", reporter=_cancel_after(2))
    assert _counts(db) == before


def test_a_file_broken_half_way_leaves_nothing(project, tmp_path):
    db, pid = project
    source = tmp_path / "truncated.jsonl"
    _write(source, _rows(11_000), tail='{"prompt": "cut off in the mid')
    before = _counts(db)
    with pytest.raises(DataFormatError):
        import_file(db, pid, source, task="instruction", fmt="json")
    assert _counts(db) == before


def test_a_file_without_a_valid_record_stores_nothing_and_names_the_first_fault(project, tmp_path):
    db, pid = project
    source = tmp_path / "bad.jsonl"
    source.write_text('{"prompt": "no answer"}\n{"prompt": 3, "response": "x"}\n')
    with pytest.raises(DataFormatError, match=r"bad\.jsonl, line 1: no valid record: all 2 "):
        import_file(db, pid, source, task="instruction")
    assert db["datasets"].count == 0 and db["quarantine"].count == 0


def test_building_versions_are_invisible_and_a_sweep_removes_them(project, tmp_path):
    db, pid = project
    source = tmp_path / "notes.jsonl"
    _write(source, _rows(50))
    done = import_file(db, pid, source, task="instruction")
    left = dataset_stream.VersionWriter(db, pid, "notes-clean", "clean", role="train",
                                        parent_id=done.train_id, job_id=None)
    left.append(_rows(3), ["a", "b", "c"])  # a stage killed here: committed, never published
    visible = [row["id"] for row in datasets.list_for_project(db, pid)]
    assert left.dataset_id not in visible
    assert datasets.default_training(db, pid)["id"] == done.train_id
    assert datasets.sweep_building(db) == 1
    assert db["records"].count_where("dataset_id = ?", [left.dataset_id]) == 0
    assert [row["id"] for row in datasets.list_for_project(db, pid)] == visible


def test_a_cancelled_clean_leaves_the_project_as_it_was(project, tmp_path):
    db, pid = project
    source = tmp_path / "notes.jsonl"
    _write(source, _rows(12_000))
    import_file(db, pid, source, task="instruction")
    before = _counts(db)
    with pytest.raises(Cancelled):
        run_clean(db, pid, CleanRecipe(tokenizer="words", near_dedup=False),
                  reporter=_cancel_after(1))
    assert _counts(db) == before


def test_published_import_is_visible_with_its_splits(project, tmp_path):
    db, pid = project
    source = tmp_path / "notes.jsonl"
    _write(source, _rows(40))
    done = import_file(db, pid, source, task="instruction")
    states = {row["id"]: row["state"] for row in db["datasets"].rows}
    assert states == {done.dataset_id: "published", done.train_id: "published",
                      done.test_id: "published"}
