"""Export step and privacy: a flagged model needs the ticked acknowledgement (audited as
`enclave export --acknowledge-memorization` does), and an export can be sealed as an
encrypted archive with its own passphrase, off the main thread."""

import importlib.util
import os
from pathlib import Path

from PySide6.QtCore import Qt

from engine import paths
from engine.compress.sealed import open_archive
from engine.evaluate.export_check import export_verdict
from engine.store import audit, projects, runs
from gui.bridge import EngineBridge
from gui.panels.compress import CompressPanel
from gui.screenshot import render

SIDE = {"identifier": {"probes": 8, "exact": 0.375, "partial": 0.5},
        "canary": {"probes": 2, "exact": 1.0, "partial": 1.0, "exposure_max": 6.6}}
PHRASE = "heron quarry violin lantern"


def _tiny_model(folder: Path) -> Path:
    path = Path(__file__).parents[1] / "engine" / "compress" / "tiny_bpe_llama.py"
    spec = importlib.util.spec_from_file_location("enclave_tests_tiny_bpe_llama_seal", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records = [{"prompt": f"What colour is item {i}?", "response": f"Item {i} is red."}
               for i in range(12)]
    return module.build_tiny_bpe_llama(folder, records)


def _check(db, project_id, run_id, flagged):
    check = runs.create(db, project_id, "privacy", "check")
    runs.set_summary(db, check, {"source_run": run_id, "flagged": flagged,
                                 "sides": {"tuned": SIDE}})


def _panel(qtbot, db, bridge=None):
    panel = CompressPanel(db, bridge or EngineBridge(paths.workspace_db()))
    qtbot.addWidget(panel)
    panel.resize(1100, 900)
    panel.show()
    return panel


def test_the_export_step_says_whether_the_model_was_checked(qtbot, db, tmp_path):
    project_id = projects.create(db, "Ward")
    run_id = runs.create(db, project_id, "train", "tuned")
    (tmp_path / "model").mkdir()
    runs.add_artifact(db, project_id, "merged-model", tmp_path / "model", run_id)
    panel = _panel(qtbot, db)
    panel.open_project(project_id)
    box = panel.export_privacy
    assert "has not run yet" in box.warning_label.text()
    assert not box.acknowledge_box.isVisible() and box.problem() is None
    _check(db, project_id, run_id, flagged=False)
    panel.refresh()
    assert "passed" in box.warning_label.text() and not box.acknowledge_box.isVisible()
    panel.bridge.shutdown(grace_s=0.5)


def test_a_flagged_model_needs_the_ticked_acknowledgement_and_seals(qtbot, db, tmp_path):
    project_id = projects.create(db, "Ward export")
    run_id = runs.create(db, project_id, "train", "tiny full fine-tune")
    runs.add_artifact(db, project_id, "merged-model", _tiny_model(tmp_path / "merged"), run_id)
    _check(db, project_id, run_id, flagged=True)
    bridge = EngineBridge(paths.workspace_db())
    panel = _panel(qtbot, db, bridge)
    panel.open_project(project_id)
    box = panel.export_privacy
    text = box.warning_label.text()
    assert "may repeat" in text and "3 of 8 (38%) identifiers" in text
    assert "2 of 2 (100%) planted" in text and "6.6 bits" in box.warning_label.toolTip()
    assert box.acknowledge_box.isVisible()
    out = tmp_path / "ward-export"
    panel.export_path.setText(str(out))
    assert panel.run_export() is None and "tick the box" in panel.status_label.text()
    assert not audit.entries(db, action="model.export.acknowledged") and not out.exists()
    box.acknowledge_box.setChecked(True)
    box.seal_box.setChecked(True)
    assert box.passphrase_edit.isVisible()
    box.passphrase_edit.setText(PHRASE)
    box.repeat_edit.setText(PHRASE + "x")
    assert panel.run_export() is None and "differ" in panel.status_label.text()
    box.repeat_edit.setText(PHRASE)
    render(panel, Path(os.environ.get("ENCLAVE_SCREENSHOT_DIR", tmp_path)) / "export-flagged.png")
    with qtbot.waitSignal(panel.sealed, timeout=240_000) as sealed:
        qtbot.mouseClick(panel.export_button, Qt.LeftButton)
        assert box.passphrase_edit.text() == ""  # not kept in the form
    bridge.shutdown(grace_s=0.5)
    entry = audit.entries(db, action="model.export.acknowledged")[0]
    assert entry["object"] == f"run:{run_id}"
    assert export_verdict(db, run_id).figures() in str(entry)  # as the CLI records it
    archive = Path(sealed.args[0])
    assert archive.name == "ward-export.enclave-sealed" and not out.exists()
    assert audit.entries(db, action="model.export.sealed")[0]["object"] == f"run:{run_id}"
    assert "Sealed: ward-export.enclave-sealed" in panel.status_label.text()
    opened = open_archive(archive, tmp_path / "opened", PHRASE)
    assert (opened / "SHA256SUMS").exists() or any(opened.iterdir())
    assert not box.acknowledge_box.isChecked()  # the next export asks again
    render(panel, Path(os.environ.get("ENCLAVE_SCREENSHOT_DIR", tmp_path)) / "export-sealed.png")
