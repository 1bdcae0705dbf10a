"""Every method and task trains a few steps: LoRA, DoRA, QLoRA, full; instruction, text,
classification (bundled MiniLM, text pairs); early stopping; incremental training."""

from __future__ import annotations

import json

import pytest

from engine.train.loop import RECIPE_FILE, train
from engine.train.recipe import TrainRecipe

SMALL = dict(rank=4, alpha=8, dropout=0.0, learning_rate=5e-3, max_steps=4, batch_size=4,
             max_length=48, checkpoint_every=0)


@pytest.mark.parametrize("method, extra", [
    ("lora", {"use_dora": True}),
    ("qlora", {"gradient_checkpointing": True}),
    ("full", {"learning_rate": 1e-3, "optimizer": "adafactor"}),
])
def test_method_trains_and_saves(tiny_llama_folder, tiny_records, tmp_path, method, extra):
    recipe = TrainRecipe(**{**SMALL, "method": method, **extra})
    result = train(tiny_llama_folder, tiny_records, recipe, tmp_path / "out")
    files = {path.name for path in result.adapter_dir.iterdir()}
    assert result.steps == 4 and all(loss == loss for _, loss in result.losses)
    if method == "full":
        assert "model.safetensors" in files and "adapter_config.json" not in files
    else:
        assert "adapter_model.safetensors" in files
        config = json.loads((result.adapter_dir / "adapter_config.json").read_text())
        assert config["use_dora"] is bool(extra.get("use_dora"))


def test_continued_pretraining_with_packing(tiny_llama_folder, tmp_path):
    texts = [{"text": f"Patient {i} was seen on ward {i % 3} and discharged home."}
             for i in range(30)]
    recipe = TrainRecipe(**{**SMALL, "task": "text", "packing": True, "max_length": 32,
                            "max_steps": 6})
    result = train(tiny_llama_folder, texts, recipe, tmp_path / "out")
    assert result.last_loss < result.first_loss


def test_encoder_classification_on_text_pairs(tmp_path):
    from engine.models.bundled import minilm_folder

    records = [{"text": f"The claim {i} was filed late.", "text_pair": "Is it late?",
                "label": "yes" if i % 2 else "no"} for i in range(16)]
    recipe = TrainRecipe(**{**SMALL, "task": "classification", "learning_rate": 1e-3,
                            "eval_fraction": 0.25, "max_steps": 3})
    result = train(minilm_folder(), records, recipe, tmp_path / "out")
    saved = json.loads((result.adapter_dir / RECIPE_FILE).read_text())
    assert saved["label_names"] == ["no", "yes"] and saved["task"] == "classification"
    assert result.eval_losses and result.eval_losses[-1][0] == 3


def test_early_stopping_keeps_the_best_weights(tiny_llama_folder, tiny_records, tmp_path):
    recipe = TrainRecipe(**{**SMALL, "learning_rate": 0.5, "optimizer": "sgd", "max_steps": 12,
                            "eval_fraction": 0.2, "eval_every": 1,
                            "early_stopping_patience": 2})
    result = train(tiny_llama_folder, tiny_records, recipe, tmp_path / "out")
    assert result.stopped_early and result.steps < 12
    best = min(result.eval_losses, key=lambda item: item[1])
    assert result.best_step == best[0]


def test_incremental_training_continues_an_adapter(tiny_llama_folder, tiny_records, tmp_path):
    first = train(tiny_llama_folder, tiny_records[:20], TrainRecipe(**SMALL), tmp_path / "one")
    recipe = TrainRecipe(**{**SMALL, "init_adapter": str(first.adapter_dir)})
    second = train(tiny_llama_folder, tiny_records[20:], recipe, tmp_path / "two")
    fresh = train(tiny_llama_folder, tiny_records[20:], TrainRecipe(**SMALL), tmp_path / "three")
    assert second.first_loss < fresh.first_loss
