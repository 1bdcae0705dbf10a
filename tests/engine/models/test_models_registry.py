import json
import shutil

import pytest

from engine.models.registry import ModelRefused, bundled_models, import_local, inspect_folder


def _tiny_llama(folder, vocab_size=49152):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=128)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder, safe_serialization=True)
    return model


def _copy_tokenizer(source, target):
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)


def _write_config(folder, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama",
                                                    "architectures": ["LlamaForCausalLM"],
                                                    **fields}))


def test_refuses_missing_config(tmp_path):
    with pytest.raises(ModelRefused, match="config.json is missing"):
        import_local(tmp_path)


def test_refuses_broken_config_with_line(tmp_path):
    (tmp_path / "config.json").write_text('{\n "model_type": "llama",\n oops\n}')
    with pytest.raises(ModelRefused, match="line 3"):
        import_local(tmp_path)


def test_refuses_unknown_architecture(tmp_path):
    _write_config(tmp_path, model_type="mamba-from-mars")
    with pytest.raises(ModelRefused, match="'mamba-from-mars' is not supported"):
        import_local(tmp_path)


def test_refuses_remote_code(tmp_path):
    _write_config(tmp_path, auto_map={"AutoModelForCausalLM": "modeling_x.XModel"})
    with pytest.raises(ModelRefused, match="auto_map.*remote code is refused"):
        import_local(tmp_path)


def test_refuses_pickled_weights(tmp_path):
    _write_config(tmp_path)
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really a pickle")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelRefused, match="pytorch_model.bin.*pickled weights are refused"):
        import_local(tmp_path)


def test_refuses_missing_tokenizer(tmp_path):
    _tiny_llama(tmp_path, vocab_size=64)
    with pytest.raises(ModelRefused, match="no tokenizer files"):
        import_local(tmp_path)


@pytest.mark.slow
def test_accepts_tiny_llama_with_tokenizer(tmp_path, smollm2_dir):
    model = _tiny_llama(tmp_path)
    _copy_tokenizer(smollm2_dir, tmp_path)
    info = import_local(tmp_path)
    assert info.kind == "causal"
    assert info.architecture == "LlamaForCausalLM"
    assert info.parameters == sum(p.numel() for p in model.parameters())
    assert info.dtype == "float32"
    assert info.size_bytes > info.parameters * 4 * 0.9
    assert not info.bundled


def test_bundled_models_listed_without_conversion(tmp_path, monkeypatch):
    monkeypatch.setenv("ENCLAVE_MODELS_DIR", str(tmp_path / "empty-cache"))
    models = {m.name: m for m in bundled_models()}
    smol, minilm = models["SmolLM2-135M-Instruct"], models["all-MiniLM-L6-v2"]
    assert smol.kind == "causal" and smol.bundled and smol.parameters > 100_000_000
    assert not smol.folder.exists()
    assert minilm.kind == "encoder" and minilm.architecture == "BertModel"
    assert minilm.parameters == inspect_folder(minilm.folder).parameters > 20_000_000
