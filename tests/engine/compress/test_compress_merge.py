import json

import pytest
import torch

from engine.compress.merge import merge_adapter
from engine.compress.sizes import model_footprint
from engine.fsutil import folder_size
from engine.models.bundled import minilm_folder
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.models.registry import import_local
from engine.progress import Reporter

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "vocab.txt")


@pytest.fixture()
def tiny_llama(tmp_path):
    """A tiny random Llama saved as safetensors, with MiniLM's tokenizer (vocab 30522)."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=30522, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=128)
    folder = tmp_path / "base"
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(minilm_folder(), local_files_only=True).save_pretrained(folder)
    return folder


def _fresh_lora(base_folder, adapter_folder):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(1)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                      init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(load_causal_lm(base_folder), lora)
    peft_model.save_pretrained(adapter_folder)
    return peft_model


def test_merged_model_gives_same_logits_as_adapter(tiny_llama, tmp_path):
    peft_model = _fresh_lora(tiny_llama, tmp_path / "adapter")
    batch = load_tokenizer(tiny_llama)(["the patient was discharged home"], return_tensors="pt")
    with torch.inference_mode():
        expected = peft_model(**batch).logits
    events: list = []
    out = merge_adapter(tiny_llama, tmp_path / "adapter", tmp_path / "merged",
                        Reporter(events.append))
    merged = load_causal_lm(out)
    with torch.inference_mode():
        actual = merged(**batch).logits
    assert torch.allclose(actual, expected, atol=1e-4)
    with torch.inference_mode(), peft_model.disable_adapter():
        assert not torch.allclose(peft_model(**batch).logits, expected, atol=1e-3)
    assert events[-1].step == events[-1].total
    assert import_local(out).parameters == import_local(tiny_llama).parameters
    assert "lora" not in json.dumps(json.loads((out / "config.json").read_text())).lower()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_merge_refuses_existing_output(tiny_llama, tmp_path):
    _fresh_lora(tiny_llama, tmp_path / "adapter")
    (tmp_path / "merged").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        merge_adapter(tiny_llama, tmp_path / "adapter", tmp_path / "merged")


def test_merge_refuses_folder_without_adapter(tiny_llama, tmp_path):
    with pytest.raises(FileNotFoundError, match="adapter_config.json is missing"):
        merge_adapter(tiny_llama, tmp_path, tmp_path / "merged")


def test_sizes(tiny_llama):
    model = load_causal_lm(tiny_llama)
    parameters = sum(p.numel() for p in model.parameters())
    assert model_footprint(model) >= parameters * 4
    assert folder_size(tiny_llama) > folder_size(tiny_llama / "model.safetensors") > 0
    with pytest.raises(FileNotFoundError):
        folder_size(tiny_llama / "missing")
