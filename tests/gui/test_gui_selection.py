"""Selection panel: run a selection job from the form and show map, coverage and table."""

import os

from engine import paths
from engine.data.demo_legal import write_legal
from engine.data.file_records import read_records
from engine.data.records import content_hash
from engine.store import datasets, projects
from gui.bridge import EngineBridge
from gui.panels.selection import SelectionPanel
from gui.screenshot import render

TASK = "classification"


def _legal_project(db, tmp_path, lines: int = 60) -> int:
    project_id = projects.create(db, "Clause types", task=TASK)
    write_legal(tmp_path / "legal.jsonl", n=lines, seed=0)
    records = read_records(tmp_path / "legal.jsonl", TASK).records
    datasets.add_version(db, project_id, "clauses", "import", records,
                         [content_hash(r, TASK) for r in records], role="pool")
    return project_id


def test_selection_panel_runs_a_job_and_shows_the_result(qtbot, db, tmp_path):
    project_id = _legal_project(db, tmp_path)
    bridge = EngineBridge(paths.workspace_db())
    panel = SelectionPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.show()
    panel.open_project(project_id)
    assert panel.dataset_combo.currentText().startswith("clauses v1")
    panel.budget_edit.setText("0")
    assert panel.run_selection() is None
    assert "budget" in panel.status_label.text()
    assert panel.method_combo.currentText() == "auto"  # spread k-means for labelled rows
    panel.budget_edit.setText("10%")
    with qtbot.waitSignal(panel.selection_shown, timeout=240_000):
        assert panel.run_selection() is not None
    bridge.shutdown(grace_s=0.5)
    assert panel.table.rowCount() == round(0.1 * datasets.get(db, 1)["record_count"])
    assert panel.coverage_labels["kcenter_radius"].text() != "—"
    assert len(panel.map_plot.selected_points.data) == panel.table.rowCount()
    assert "by auto (spread-kmeans)" in panel.summary_label.text()
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/selection.png" if out else tmp_path / "selection.png")
