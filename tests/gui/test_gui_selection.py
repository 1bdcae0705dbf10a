"""Selection panel: run a selection job from the form and show map, coverage and table."""

import os
import re

import numpy as np
from sql_trace import traced_statements

from engine import paths
from engine.data.demo_legal import write_legal
from engine.data.file_records import read_records
from engine.data.records import content_hash
from engine.store import datasets, projects, runs
from gui import tasks
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
    assert panel.table_model.rowCount() == round(0.1 * datasets.get(db, 1)["record_count"])
    assert panel.coverage_labels["kcenter_radius"].text() != "—"
    assert re.fullmatch(r"\d+ of \d+", panel.coverage_labels["clusters_hit"].text())
    assert len(panel.map_plot.selected_points.data) == panel.table_model.rowCount()
    assert "by auto (spread-kmeans)" in panel.summary_label.text()
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/selection.png" if out else tmp_path / "selection.png")


def _stored_selection(db, tmp_path, rows: int) -> tuple[int, int]:
    """A project with a stored selection of ``rows`` rows and its map (no job run)."""
    project_id = projects.create(db, "Big ward")
    records = [{"prompt": f"note {i}", "response": f"answer {i}", "label": f"kind{i % 3}"}
               for i in range(rows)]
    recipe = {"method": "kmeans", "budget": str(rows), "seed": 0, "parent_rows": 2 * rows,
              "parent_positions": list(range(0, 2 * rows, 2)),
              "metrics": {"kcenter_radius": 0.4}}
    dataset_id = datasets.add_version(db, project_id, "notes-coreset", "selection", records,
                                      [f"s{i}" for i in range(rows)], role="train",
                                      recipe=recipe)
    path = tmp_path / "map.npz"
    np.savez(path, coords=np.random.default_rng(0).normal(size=(2 * rows, 2)),
             clusters=np.arange(2 * rows) % 7, selected=np.arange(0, 2 * rows, 2))
    runs.add_artifact(db, project_id, "selection-map", path, dataset_id=dataset_id)
    return project_id, dataset_id


def test_a_selection_is_read_off_the_main_thread(qtbot, db, tmp_path):
    """Showing a selection reads its records and map on the task runner: the window's own
    connection never reads the records table, and the figures show at once."""
    project_id, dataset_id = _stored_selection(db, tmp_path, rows=600)
    panel = SelectionPanel(db, None)
    qtbot.addWidget(panel)
    panel.set_project(None)
    with traced_statements(db) as statements, \
            qtbot.waitSignal(panel.selection_shown, timeout=10_000):
        panel.set_project(project_id)
        assert panel.coverage_labels["kcenter_radius"].text() == "0.400"
    assert not [s for s in statements if "FROM records" in s]
    assert panel.table_model.rowCount() == 500  # the first TABLE_ROWS rows
    assert panel.table_model.rows[1][:2] == ("2", "kind1")
    assert sum(len(item.data) for item in panel.map_plot.colour_points) == 1200
    assert len(panel.map_plot.selected_points.data) == 600
    assert panel.shown_id == dataset_id


def test_a_selection_read_after_the_project_changed_is_dropped(qtbot, db, tmp_path):
    project_id, _dataset_id = _stored_selection(db, tmp_path, rows=20)
    panel = SelectionPanel(db, None)
    qtbot.addWidget(panel)
    panel.set_project(project_id)  # its rows are read in the background…
    panel.set_project(projects.create(db, "Empty ward"))  # …while another project opens
    qtbot.waitUntil(lambda: not tasks.runner().busy(), timeout=10_000)
    assert panel.table_model.rowCount() == 0
    assert sum(len(item.data) for item in panel.map_plot.colour_points) == 0
