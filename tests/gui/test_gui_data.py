"""Data panel: preview with a changed mapping, import and clean as jobs, report on screen."""

import json
import os

from engine import paths
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
