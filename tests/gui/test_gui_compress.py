"""Compress panel: refuse a bad form, run a pruning job, show the comparison."""

import importlib.util
import os
from pathlib import Path

from engine import paths
from engine.store import datasets, projects, runs
from gui.bridge import EngineBridge
from gui.panels.compress import CompressPanel
from gui.screenshot import render


def _tiny_model(folder: Path, records: list[dict]) -> Path:
    path = Path(__file__).parents[1] / "engine" / "compress" / "tiny_bpe_llama.py"
    spec = importlib.util.spec_from_file_location("enclave_tests_tiny_bpe_llama_gui", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_bpe_llama(folder, records)


def _project_with_run(db, tmp_path) -> tuple[int, int]:
    records = [{"prompt": f"What colour is item {i}?", "response": f"Item {i} is red."}
               for i in range(12)]
    project_id = projects.create(db, "Ward", "compression")
    datasets.add_version(db, project_id, "ward-test", "split", records,
                         [str(i) for i in range(len(records))], role="test")
    model = _tiny_model(tmp_path / "merged", records)
    run_id = runs.create(db, project_id, "train", "tiny LoRA")
    runs.add_artifact(db, project_id, "merged-model", model, run_id)
    return project_id, run_id


def test_compress_panel_runs_a_job_and_compares(qtbot, db, tmp_path):
    project_id, run_id = _project_with_run(db, tmp_path)
    bridge = EngineBridge(paths.workspace_db())
    panel = CompressPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.show()
    panel.open_project(project_id)
    assert panel.selected_run() == run_id
    panel.method_combo.setCurrentText("prune")
    assert panel.editors["sparsity"].isVisible() and not panel.editors["gguf_type"].isVisible()
    panel.editors["sparsity"].setValue(1.5)
    assert panel.run_compression() is None
    assert "outside 0-1" in panel.status_label.text()
    panel.editors["sparsity"].setValue(0.4)
    panel.editors["eval_records"].setValue(4)
    with qtbot.waitSignal(bridge.job_finished, timeout=240_000) as finished:
        assert panel.run_compression() is not None
    bridge.shutdown(grace_s=0.5)
    assert finished.args[1]["state"] == "succeeded", finished.args[1]["error"]
    assert panel.table.rowCount() == 2
    assert panel.table.item(1, 0).text() == "pruned 40%"
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(9)]
    assert headers[2:4] == ["Weights MB", "Peak MB"]
    assert "Peak memory" in panel.table.horizontalHeaderItem(3).toolTip()
    assert float(panel.table.item(1, 3).text().replace(",", "")) > 0
    assert panel.table.item(1, 8).text() == "40%"
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/compress.png" if out else tmp_path / "compress.png")


def test_rows_stored_before_peak_memory_show_a_dash(qtbot):
    from gui.panels.compress import VariantTable

    table = VariantTable()
    qtbot.addWidget(table)
    table.show_rows([{"name": "8-bit", "size_mb": 1.0, "memory_mb": 2.0, "load_s": 0.1,
                      "tokens_per_s": 5.0, "ppl": 9.0}])
    assert table.item(0, 2).text() == "2.00" and table.item(0, 3).text() == "–"
    table.show_rows([{"name": "tuned fp32", "layers": 4, "size_mb": 1.0, "memory_mb": 2.0,
                      "load_s": 0.1, "samples_per_s": 9.0, "accuracy": 1.0, "macro_f1": 1.0}])
    assert table.horizontalHeaderItem(4).text() == "Peak MB" and table.item(0, 4).text() == "–"


def test_comparisons_of_several_runs_merge_base_and_tuned_first():
    from gui.widgets.compress_views import merge_comparisons

    rows = merge_comparisons([
        {"variants": [{"name": "tuned fp32", "ppl": 10.0}, {"name": "8-bit", "ppl": 11.0}]},
        {"variants": [{"name": "gguf f16", "ppl": 10.0}, {"name": "base", "ppl": 12.0},
                      {"name": "tuned fp32", "ppl": 10.0}]}])
    assert [r["name"] for r in rows] == ["base", "tuned fp32", "8-bit", "gguf f16"]
    assert rows[2]["ppl_change"] == 0.1 or abs(rows[2]["ppl_change"] - 0.1) < 1e-9


def _tiny_bert_helper():
    path = Path(__file__).parents[1] / "engine" / "compress" / "tiny_bert.py"
    spec = importlib.util.spec_from_file_location("enclave_tests_tiny_bert_gui", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _project_with_classifier_run(db, tmp_path) -> tuple[int, int]:
    """A clause project whose training run is a fully tuned 4-layer tiny BERT classifier."""
    helper = _tiny_bert_helper()
    clauses = helper.clause_records(40)
    project_id = projects.create(db, "Contracts", "clause classifier")
    for name, part in (("clauses-train", clauses[:28]), ("clauses-test", clauses[28:])):
        datasets.add_version(db, project_id, name, "split", part,
                             [f"{name}-{i}" for i in range(len(part))], role=name.rsplit("-", 1)[-1])
    model = helper.confident_tiny_classifier(tmp_path / "teacher", clauses, helper.LABELS)
    run_id = runs.create(db, project_id, "train", "full fine-tune on clauses")
    runs.add_artifact(db, project_id, "model", model, run_id)
    return project_id, run_id


def test_compress_panel_distills_a_classifier(qtbot, db, tmp_path):
    from gui.app import application

    application()
    project_id, run_id = _project_with_classifier_run(db, tmp_path)
    bridge = EngineBridge(paths.workspace_db())
    panel = CompressPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.show()
    panel.open_project(project_id)
    assert panel.method_combo.currentText() == "distill"
    assert "text classifier" in panel.status_label.text()
    assert panel.editors["student_layers"].text() == "half of the teacher's"
    panel.editors["student_layers"].setValue(4)
    assert panel.run_compression() is None
    assert "not fewer than the teacher's 4 layers" in panel.status_label.text()
    panel.method_combo.setCurrentText("prune")
    assert panel.run_compression() is None
    assert "only --method distill" in panel.status_label.text()
    panel.method_combo.setCurrentText("distill")
    panel.editors["student_layers"].setValue(2)
    panel.editors["distill_steps"].setValue(3)
    panel.editors["max_length"].setValue(64)
    panel.editors["eval_records"].setValue(12)
    with qtbot.waitSignal(bridge.job_finished, timeout=240_000) as finished:
        assert panel.run_compression() is not None
    bridge.shutdown(grace_s=0.5)
    assert finished.args[1]["state"] == "succeeded", finished.args[1]["error"]
    table = panel.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[3:9] == ["Weights MB", "Peak MB", "Load s", "Samples/s", "Accuracy",
                            "Macro-F1"]
    assert all(float(table.item(r, 4).text().replace(",", "")) > 0 for r in range(2))
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == \
        ["tuned fp32", "distilled 2-layer"]
    assert [table.item(r, 1).text() for r in range(2)] == ["4", "2"]
    assert table.item(0, 9).text() == "+0.0 pt"
    assert "Done: distilled 2-layer saved as run 2" in panel.status_label.text()
    application().processEvents()
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(panel, f"{out}/compress-classifier.png" if out else tmp_path / "compress.png")
