"""The memorization rule of an export, shared by `enclave export` and the window."""

from __future__ import annotations

import pytest

from engine import paths
from engine.compress.export_seal import seal_export
from engine.compress.sealed import SealError, open_archive
from engine.evaluate.export_check import (
    MemorizationRefused,
    export_verdict,
    require_acknowledgement,
)
from engine.store import audit, open_store, projects, runs

SIDE = {"identifier": {"probes": 4, "exact": 0.25, "partial": 0.5},
        "canary": {"probes": 2, "exact": 1.0, "partial": 1.0, "exposure_max": 6.6}}


@pytest.fixture
def ward():
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward")
    trained = runs.create(db, project_id, "train", "t")
    compressed = runs.create(db, project_id, "compress", "c")
    runs.set_summary(db, compressed, {"source_run_id": trained})
    return db, project_id, trained, compressed


def _check(db, project_id, run_id, flagged):
    check = runs.create(db, project_id, "privacy", "check")
    runs.set_summary(db, check, {"source_run": run_id, "flagged": flagged,
                                 "sides": {"tuned": SIDE}})
    return check


def test_a_compressed_variant_answers_for_its_training_run(ward):
    db, project_id, trained, compressed = ward
    assert not export_verdict(db, compressed).checked
    check = _check(db, project_id, trained, flagged=True)
    verdict = export_verdict(db, compressed)
    assert verdict.flagged and verdict.trained_run_id == trained
    with pytest.raises(MemorizationRefused, match=f"check {check} flagged"):
        require_acknowledgement(db, compressed, acknowledged=False)
    assert not audit.entries(db, action="model.export.acknowledged")


def test_an_acknowledgement_is_audited_with_the_figures(ward):
    db, project_id, trained, _ = ward
    check = _check(db, project_id, trained, flagged=True)
    verdict = require_acknowledgement(db, trained, acknowledged=True)
    entry = audit.entries(db, action="model.export.acknowledged")[0]
    assert entry["object"] == f"run:{trained}"
    assert str(check) in str(entry) and verdict.figures() in str(entry)
    assert "wrote out 1 of 4 (25%) identifiers and 2 of 2 (100%) planted" in verdict.plain()


def test_a_model_not_flagged_needs_nothing(ward):
    db, project_id, trained, _ = ward
    _check(db, project_id, trained, flagged=False)
    assert not require_acknowledgement(db, trained, acknowledged=False).flagged
    assert not audit.entries(db, action="model.export.acknowledged")


def test_a_sealed_export_replaces_the_folder_and_is_audited(ward, tmp_path):
    db, _, trained, _ = ward
    folder = tmp_path / "run-1"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    archive = seal_export(db, trained, folder, "kestrel orchard lantern")
    assert not folder.exists() and archive.name == "run-1.enclave-sealed"
    assert audit.entries(db, action="model.export.sealed")[0]["object"] == f"run:{trained}"
    with pytest.raises(SealError):
        open_archive(archive, tmp_path / "out", "wrong")
    opened = open_archive(archive, tmp_path / "out", "kestrel orchard lantern")
    assert (opened / "config.json").read_text() == "{}"
