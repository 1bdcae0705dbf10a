"""Training recipe validation (through the common recipe base) and target-module choice."""

from __future__ import annotations

import dataclasses

import pytest

from engine.config import RecipeError
from engine.train.recipe import TrainRecipe


def test_defaults_are_valid_and_every_field_has_help():
    recipe = TrainRecipe()
    assert (recipe.rank, recipe.alpha, recipe.batch_size, recipe.max_length) == (8, 16, 4, 256)
    assert all(field.metadata.get("help") for field in dataclasses.fields(TrainRecipe))


@pytest.mark.parametrize("changes, message", [
    ({"rank": 0}, "rank must be >= 1, got 0"),
    ({"batch_size": 2.5}, "batch_size must be int, got 2.5"),
    ({"epochs": 0}, "epochs must be >= 1"),
    ({"grad_accum": -1}, "grad_accum must be >= 1"),
    ({"alpha": 0}, "alpha must be > 0"),
    ({"learning_rate": -1e-4}, "learning_rate must be > 0"),
    ({"dropout": 1.0}, "dropout must be < 1"),
    ({"warmup_ratio": 1.5}, "warmup_ratio must be <= 1"),
    ({"weight_decay": -0.1}, "weight_decay must be >= 0"),
    ({"max_steps": -1}, "max_steps must be >= 0"),
    ({"max_length": 4}, "max_length must be >= 16"),
    ({"use_dora": "yes"}, "use_dora must be bool"),
    ({"optimizer": "adam"}, "optimizer must be one of adamw, sgd"),
    ({"scheduler": "step"}, "scheduler must be one of cosine, linear"),
    ({"target_modules": " , "}, "target_modules must be"),
])
def test_bad_values_raise_naming_the_field(changes, message):
    with pytest.raises(RecipeError, match=message):
        TrainRecipe(**changes)


@pytest.mark.parametrize("model_type, expected", [
    ("llama", ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ("mistral", ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ("qwen2", ["q_proj", "k_proj", "v_proj", "o_proj"]),
    ("gpt2", ["c_attn"]),
    ("bert", ["query", "key", "value"]),
])
def test_auto_targets_follow_the_architecture(model_type, expected):
    assert TrainRecipe().target_modules_for(model_type) == expected


def test_explicit_targets_and_unknown_architecture():
    assert TrainRecipe(target_modules="q_proj, v_proj").target_modules_for("xyz") == \
        ["q_proj", "v_proj"]
    with pytest.raises(ValueError, match="no default LoRA target modules for architecture 'xyz'"):
        TrainRecipe().target_modules_for("xyz")


def test_unknown_keys_are_refused_with_the_closest_name_and_toml_round_trips(tmp_path):
    with pytest.raises(RecipeError, match=r"unknown field 'learnig_rate' \(did you mean "
                                          r"'learning_rate'\?\)"):
        TrainRecipe.from_dict({"learnig_rate": 1e-4}, where="r.toml")
    path = tmp_path / "r.toml"
    path.write_text(TrainRecipe(rank=4, method="full").to_toml({"base": "smollm2"}))
    recipe, extra = TrainRecipe.from_toml(path)
    assert recipe == TrainRecipe(rank=4, method="full") and extra == {"base": "smollm2"}
    path.write_text(path.read_text().replace("recipe_version = 1", "recipe_version = 9"))
    with pytest.raises(RecipeError, match="recipe_version 9 is newer"):
        TrainRecipe.from_toml(path)
