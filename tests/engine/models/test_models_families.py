"""Bring your own model: tiny random-weight models of the common families, saved as local
folders, go through check-model, LoRA training (each family's target modules), merge, 8-bit
loading (causal models for generation, encoders as classifiers with their head in full
precision), classification heads for the encoders and GGUF export (or a refusal naming the
family)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from engine.compress.gguf_export import export_gguf
from engine.compress.merge import merge_adapter
from engine.compress.recipe import CompressRequestError
from engine.models.registry import import_local
from engine.train.loop import train
from engine.train.recipe import TrainRecipe


def _families():
    name = "enclave_tests_families"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(
            "families.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


families = _families()
GGUF_FAMILIES = {"llama"}


def _recipe(**values) -> TrainRecipe:
    return TrainRecipe(**{"max_steps": 2, "batch_size": 4, "max_length": 48, "rank": 4,
                          "alpha": 8, "learning_rate": 1e-3, "checkpoint_every": 0,
                          "checkpoint_minutes": 0, **values})


def _adapter_targets(adapter: Path) -> set[str]:
    return set(json.loads((adapter / "adapter_config.json").read_text())["target_modules"])


@pytest.mark.parametrize("family", families.CAUSAL)
def test_causal_family_checks_trains_merges_loads_in_8bit_and_exports(family, tmp_path):
    folder = families.build(family, tmp_path / family)
    info = import_local(folder)
    assert info.kind == "causal" and info.parameters > 0

    recipe = _recipe(chat_template_fallback=family == "gpt2")
    result = train(folder, families.chat_records(), recipe, tmp_path / "adapter")
    assert result.steps == 2 and all(loss == loss for _, loss in result.losses)
    assert _adapter_targets(result.adapter_dir) == set(TrainRecipe().target_modules_for(family))

    merged = merge_adapter(folder, result.adapter_dir, tmp_path / "merged")
    assert import_local(merged).kind == "causal"
    _generates_in_8bit(merged)

    target = tmp_path / "model.gguf"
    if family in GGUF_FAMILIES:
        assert export_gguf(merged, target, "f32").stat().st_size > 0
    else:
        with pytest.raises(CompressRequestError, match=f"not '{family}'"):
            export_gguf(merged, target)
        assert not target.exists()


def _generates_in_8bit(folder: Path) -> None:
    import torch

    from engine.models.loading import load_causal_lm, load_tokenizer

    model = load_causal_lm(folder, quantize="8bit", dtype="float32")
    assert any("8bit" in type(m).__name__ or "Int8" in type(m).__name__
               for m in model.modules())
    ids = load_tokenizer(folder)("Item 3 is", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("family", families.ENCODERS)
def test_encoder_family_trains_a_classification_head_and_merges(family, tmp_path):
    folder = families.build(family, tmp_path / family)
    assert import_local(folder).kind == "encoder"

    recipe = _recipe(task="classification")
    result = train(folder, families.label_records(), recipe, tmp_path / "adapter")
    assert result.steps == 2 and all(loss == loss for _, loss in result.losses)
    assert _adapter_targets(result.adapter_dir) == set(TrainRecipe().target_modules_for(family))

    merged = merge_adapter(folder, result.adapter_dir, tmp_path / "merged")
    config = json.loads((merged / "config.json").read_text())
    assert config["id2label"] == {"0": "stable", "1": "watch"}
    assert import_local(merged).kind == "encoder"
    _classifies_in_8bit(merged)
    with pytest.raises(CompressRequestError, match=f"not '{family}'"):
        export_gguf(merged, tmp_path / "model.gguf")


def _classifies_in_8bit(folder: Path) -> None:
    """The merged classifier loads with int8 encoder layers, its head in full precision, and
    gives nearly the logits of the full-precision model."""
    import torch

    from engine.models.loading import load_sequence_classifier, load_tokenizer

    texts = [record["text"] for record in families.label_records()]
    batch = load_tokenizer(folder)(texts, return_tensors="pt", padding=True)
    logits = {}
    for quantize in (None, "8bit"):
        model = load_sequence_classifier(folder, quantize=quantize, dtype="float32")
        with torch.no_grad():
            logits[quantize] = model(**batch).logits
    kinds = {name: type(m).__name__ for name, m in model.named_modules()}
    assert sum(kind == "Linear8bitLt" for kind in kinds.values()) >= 4
    assert all(kind != "Linear8bitLt" for name, kind in kinds.items()
               if name.split(".")[0] in ("classifier", "head", "pooler"))
    assert model.config.id2label == {0: "stable", 1: "watch"}
    assert torch.isfinite(logits["8bit"]).all()
    assert torch.allclose(logits["8bit"], logits[None], atol=1e-2)


def test_a_model_without_a_chat_template_is_refused_unless_the_fallback_is_chosen(tmp_path):
    from engine.train.chat_template import PLAIN_CHAT_TEMPLATE

    folder = families.build("gpt2", tmp_path / "gpt2")
    with pytest.raises(ValueError, match="chat_template_fallback"):
        train(folder, families.chat_records(), _recipe(), tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    result = train(folder, families.chat_records(), _recipe(chat_template_fallback=True),
                   tmp_path / "plain")
    saved = json.loads((result.adapter_dir / "tokenizer_config.json").read_text())
    template = saved.get("chat_template") or (result.adapter_dir / "chat_template.jinja") \
        .read_text()
    assert template == PLAIN_CHAT_TEMPLATE
