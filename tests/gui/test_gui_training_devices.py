"""Training tab: the device choice becomes the job's launch plan, and the memory estimate
recommends a method and the largest batch that fits this machine."""

import importlib.util
from pathlib import Path

import pytest

from gui.panels.training import TrainingPanel
from gui.screenshot import render


@pytest.fixture(scope="module")
def tiny_llama_folder(tmp_path_factory):
    path = Path(__file__).parents[1] / "engine" / "train" / "tiny_lm.py"
    spec = importlib.util.spec_from_file_location("enclave_gui_tests_tiny_lm", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_tiny_llama(tmp_path_factory.mktemp("tiny_llama"))


def test_several_gpus_become_a_launch_plan(qtbot, db):
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    assert "launch" not in panel.train_params()
    panel.devices_combo.setCurrentIndex(panel.devices_combo.findData(4))
    assert panel.train_params()["launch"] == {"processes": 4}


def test_the_estimate_recommends_a_method_and_batch(qtbot, db, tiny_llama_folder, tmp_path):
    panel = TrainingPanel(db, None)
    qtbot.addWidget(panel)
    panel.resize(1280, 820)
    panel.base_combo.setEditText(str(tiny_llama_folder))
    with qtbot.waitSignal(panel.estimate_shown, timeout=60_000):
        panel.update_estimate()
    assert panel.advice is not None and panel.advice.method, panel.estimate_label.text()
    assert panel.advice_label.text().startswith("Recommended:")
    assert panel.advice_button.isVisibleTo(panel)
    panel.inputs["batch_size"].setText("1")
    panel.advice_button.click()
    recipe = panel.recipe()
    assert (recipe.method, recipe.batch_size) == (panel.advice.method, panel.advice.batch_size)
    panel.show()
    qtbot.wait(50)
    assert render(panel, tmp_path / "training-advice.png").stat().st_size > 10_000
