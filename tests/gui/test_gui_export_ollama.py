"""Export step: a GGUF export from the Compress tab comes with a Modelfile, and the folder
path can be copied."""

import importlib.util
import os
from pathlib import Path

from PySide6.QtCore import Qt

from engine import paths
from engine.store import projects, runs
from gui.bridge import EngineBridge
from gui.panels.compress import CompressPanel
from gui.screenshot import render


def _tiny_model(folder: Path) -> Path:
    path = Path(__file__).parents[1] / "engine" / "compress" / "tiny_bpe_llama.py"
    spec = importlib.util.spec_from_file_location("enclave_tests_tiny_bpe_llama_export", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records = [{"prompt": f"What colour is item {i}?", "response": f"Item {i} is red."}
               for i in range(12)]
    return module.build_tiny_bpe_llama(folder, records)


def test_gguf_export_writes_a_modelfile_and_the_path_is_copied(qtbot, db, tmp_path):
    from gui.app import application

    app = application()
    project_id = projects.create(db, "Ward export")
    run_id = runs.create(db, project_id, "train", "tiny full fine-tune")
    runs.add_artifact(db, project_id, "merged-model", _tiny_model(tmp_path / "merged"), run_id)
    bridge = EngineBridge(paths.workspace_db())
    panel = CompressPanel(db, bridge)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.show()
    panel.open_project(project_id)
    assert not panel.export_folder.copy_button.isEnabled()
    panel.export_format.setCurrentText("gguf")
    out = tmp_path / "ward-gguf"
    panel.export_path.setText(str(out))
    with qtbot.waitSignal(bridge.job_finished, timeout=240_000) as finished:
        qtbot.mouseClick(panel.export_button, Qt.LeftButton)
    bridge.shutdown(grace_s=0.5)
    assert finished.args[1]["state"] == "succeeded", finished.args[1]["error"]
    qtbot.waitUntil(lambda: panel.export_folder.copy_button.isEnabled(), timeout=5000)
    assert Path(panel.export_folder.path_edit.text()) == out
    modelfile = (out / "Modelfile").read_text()
    assert "FROM ./model-f16.gguf" in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile
    assert "ollama create ward-gguf -f Modelfile" in (out / "README.md").read_text()
    with qtbot.waitSignal(panel.export_folder.path_copied):
        qtbot.mouseClick(panel.export_folder.copy_button, Qt.LeftButton)
    assert app.clipboard().text() == str(out)
    render(panel, Path(os.environ.get("ENCLAVE_SCREENSHOT_DIR", tmp_path)) / "export.png")
