"""LoRA recipe validation and target-module choice."""

from __future__ import annotations

import dataclasses

import pytest

from engine.train.lora_recipe import LoraRecipe


def test_defaults_are_valid_and_every_field_has_help():
    recipe = LoraRecipe()
    assert (recipe.rank, recipe.alpha, recipe.batch_size, recipe.max_length) == (8, 16, 4, 256)
    assert all(field.metadata.get("help") for field in dataclasses.fields(LoraRecipe))


@pytest.mark.parametrize("changes, message", [
    ({"rank": 0}, "rank must be an integer >= 1"),
    ({"batch_size": 2.5}, "batch_size must be an integer >= 1"),
    ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"grad_accum": -1}, "grad_accum must be an integer >= 1"),
    ({"alpha": 0}, "alpha must be a number"),
    ({"learning_rate": -1e-4}, "learning_rate must be a number"),
    ({"dropout": 1.0}, "dropout must be a number"),
    ({"warmup_ratio": 1.5}, "warmup_ratio must be a number"),
    ({"weight_decay": -0.1}, "weight_decay must be a number"),
    ({"max_steps": -1}, "max_steps must be an integer >= 0"),
    ({"max_length": 4}, "max_length must be an integer >= 16"),
    ({"optimizer": "adam"}, "optimizer must be one of adamw, sgd, rmsprop"),
    ({"scheduler": "step"}, "scheduler must be one of cosine, linear, constant"),
    ({"target_modules": " , "}, "target_modules must be"),
])
def test_bad_values_raise_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        LoraRecipe(**changes)


@pytest.mark.parametrize("model_type, expected", [
    ("llama", ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ("mistral", ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ("qwen2", ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ("gpt2", ["c_attn"]),
    ("bert", ["query", "key", "value"]),
])
def test_auto_targets_follow_the_architecture(model_type, expected):
    assert LoraRecipe().target_modules_for(model_type) == expected


def test_explicit_targets_and_unknown_architecture():
    assert LoraRecipe(target_modules="q_proj, v_proj").target_modules_for("xyz") == \
        ["q_proj", "v_proj"]
    with pytest.raises(ValueError, match="no default LoRA target modules for architecture 'xyz'"):
        LoraRecipe().target_modules_for("xyz")


def test_round_trip_drops_unknown_keys(caplog):
    values = {**LoraRecipe(rank=4).to_dict(), "colour": "blue"}
    assert LoraRecipe.from_dict(values) == LoraRecipe(rank=4)
    assert "colour" in caplog.text
