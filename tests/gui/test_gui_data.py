"""Data panel: preview with a changed mapping, import and clean as jobs, report on screen."""

import json
import os

from engine import paths
from engine.data.importer import import_file
from engine.store import projects
from gui.bridge import EngineBridge
from gui.panels.data import DataPanel
from gui.screenshot import render


def _export(path):
    rows = []
    for i in range(120):
        rows.append({"question": f"Patient Maria Lopez, MRN {4400000 + i}, asks about dose {i} of "
                                 f"drug {'abcde'[i % 5]} and whether it interacts with food" + " or drink" * (i % 9),
                     "answer_text": f"Take {i % 4 + 1} tablets with water; call (555) 201-{1000 + i}.",
                     "note": "x"})
    rows += rows[:15]
    rows.append({"question": "", "answer_text": "empty question"})
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def test_data_panel_imports_with_a_changed_mapping_and_cleans(qtbot, db, tmp_path):
    project_id = projects.create(db, "Clinic notes")
    bridge = EngineBridge(paths.workspace_db())
    panel = DataPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.show()
    panel.open_project(project_id)
    panel.path_edit.setText(str(_export(tmp_path / "notes.jsonl")))
    assert panel.show_preview()
    assert panel.mapping() == {"prompt": "question"}  # "answer_text" is no known name
    panel.mapping_combos["response"].setCurrentText("answer_text")
    with qtbot.waitSignal(panel.import_done, timeout=120_000):
        assert panel.run_import() is not None
    assert panel.quarantine_table.rowCount() == 1
    panel.recipe_form.set_values({"tokenizer": "words", "near_threshold": 0.7})
    with qtbot.waitSignal(panel.report_shown, timeout=120_000):
        assert panel.run_clean() is not None
    bridge.shutdown(grace_s=0.5)
    steps = {panel.counts_table.item(r, 0).text(): panel.counts_table.item(r, 1).text()
             for r in range(panel.counts_table.rowCount())}
    assert int(steps["Exact duplicates (dropped)"]) + int(steps["Same as a test record (dropped)"]) >= 1
    assert panel.clusters_table.rowCount() > 0 and panel.clusters_table.item(0, 0).text() == "kept"
    assert "Maria" not in panel.clusters_table.item(0, 2).text()
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/data.png" if out else tmp_path / "data.png")


def _headings(table):
    return [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]


def test_headerless_export_shows_numbered_headings_and_maps_by_position(qtbot, db, tmp_path):
    from tests.engine.data.csv_fixtures import clinical_rows, write_table

    project_id = projects.create(db, "Ward notes", task="classification")
    bridge = EngineBridge(paths.workspace_db())
    panel = DataPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.open_project(project_id)
    rows = clinical_rows(30)
    rows[0][3] = "HISTORY OF PRESENT ILLNESS: a 63 year old man with chest pain"
    panel.path_edit.setText(str(write_table(tmp_path / "ehr.csv", rows, header=None)))
    assert panel.show_preview()
    assert "no header found: columns are numbered" in panel.status_label.text()
    assert panel.preview_note.text() == "No header found: columns are numbered"
    headings = _headings(panel.preview_table)
    assert headings[3].startswith("4: HISTORY OF PRESENT ILLNESS") and headings[3].endswith("\u2026")
    combo = panel.mapping_combos["text"]
    combo.setCurrentIndex(combo.findData("4"))
    panel.mapping_combos["label"].setCurrentText("6")  # typed: a position
    assert panel.mapping() == {"text": "4", "label": "6"}
    panel.resize(1280, 820)
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/data-headerless.png" if out else tmp_path / "data-headerless.png")
    with qtbot.waitSignal(panel.import_done, timeout=120_000):
        assert panel.run_import() is not None
    bridge.shutdown(grace_s=0.5)
    assert "Imported 30 records, 0 quarantined" in panel.status_label.text()


def test_redaction_policy_dry_run_then_locked_after_cleaning(qtbot, db, tmp_path):
    project_id = projects.create(db, "Desk", task="instruction")
    bridge = EngineBridge(paths.workspace_db())
    panel = DataPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    import_file(db, project_id, _export(tmp_path / "notes.jsonl"), task="instruction",
                mapping={"prompt": "question", "response": "answer_text"})
    panel.open_project(project_id)
    box = panel.policy_box
    box.combo.setCurrentIndex(box.combo.findData("general"))
    box.combo.activated.emit(box.combo.currentIndex())
    assert projects.get(db, project_id)["redaction_policy"] == "general"
    with qtbot.waitSignal(box.dry_run_shown, timeout=60_000) as shown:
        box.preview_button.click()
    assert shown.args[0]["policy"] == "general" and shown.args[0]["counts"]["PHONE"] > 100
    cells = " ".join(box.table.item(r, c).text() for r in range(box.table.rowCount())
                     for c in range(3))
    assert "PHONE" in cells and "[PHONE]" in cells and "(555) 201" not in cells
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/data-dry-run.png" if out else tmp_path / "data-dry-run.png")
    panel.recipe_form.set_values({"tokenizer": "words"})
    with qtbot.waitSignal(panel.report_shown, timeout=120_000):
        panel.run_clean()
    bridge.shutdown(grace_s=0.5)
    assert not box.combo.isEnabled() and "Locked" in box.note.text()
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/data-policy.png" if out else tmp_path / "data-policy.png")


def test_a_folder_of_documents_imports_with_unreadable_ones_in_the_quarantine(qtbot, db, tmp_path):
    from tests.engine.data.test_data_sheets_documents import _contracts

    project_id = projects.create(db, "Contracts", task="classification")
    bridge = EngineBridge(paths.workspace_db())
    panel = DataPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.open_project(project_id)
    panel.path_edit.setText(str(_contracts(tmp_path / "contracts")))
    assert panel.show_preview()
    assert panel.preview.container == "text-files"
    assert panel.mapping() == {"text": "text", "label": "label"}
    with qtbot.waitSignal(panel.import_done, timeout=120_000):
        assert panel.run_import() is not None
    bridge.shutdown(grace_s=0.5)
    assert "Imported 4 records, 4 quarantined" in panel.status_label.text()
    reasons = [panel.quarantine_table.item(r, 2).text()
               for r in range(panel.quarantine_table.rowCount())]
    assert any(r.startswith("scan.pdf") and "no text layer" in r for r in reasons)
    assert any(r.startswith("locked.pdf") and "password" in r for r in reasons)
