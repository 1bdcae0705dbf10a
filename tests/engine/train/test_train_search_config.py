"""Search spaces, trial ranking, the accelerate launch config and the memory estimate."""

from __future__ import annotations

import pytest

from engine.train.memory_estimate import estimate
from engine.train.multi_gpu import accelerate_config, write_accelerate_config
from engine.train.recipe import TrainRecipe, load_toml, to_toml
from engine.train.search import load_space, rank_trials, trial_overrides

SPACE = """
base = "smollm2"
dataset = "clinical"
[train]
max_steps = 5
[search]
strategy = "{strategy}"
trials = {trials}
[search.space]
learning_rate = {lr}
rank = [4, 8]
"""


def test_grid_covers_combinations_up_to_the_budget(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(SPACE.format(strategy="grid", trials=3, lr="[1e-4, 2e-4]"))
    space = load_space(path)
    assert trial_overrides(space) == [{"learning_rate": 1e-4, "rank": 4},
                                      {"learning_rate": 1e-4, "rank": 8},
                                      {"learning_rate": 2e-4, "rank": 4}]
    assert [r.max_steps for r in space.recipes] == [5, 5, 5]


def test_random_draws_log_ranges_repeatably(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(SPACE.format(strategy="random", trials=5, lr="{min = 1e-5, max = 1e-3, "
                                 "log = true}"))
    first, again = trial_overrides(load_space(path)), trial_overrides(load_space(path))
    assert first == again and len(first) == 5
    assert all(1e-5 <= t["learning_rate"] <= 1e-3 and t["rank"] in (4, 8) for t in first)


def test_bad_trial_values_name_the_file_and_trial(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(SPACE.format(strategy="grid", trials=4, lr="[1e-4, -1.0]"))
    with pytest.raises(ValueError, match=r"space.toml trial 3: learning_rate must be"):
        load_space(path)


def test_ranking_marks_the_best_and_puts_failures_last():
    ranked = rank_trials([
        {"trial": 1, "state": "succeeded", "eval_loss": 1.5},
        {"trial": 2, "state": "cancelled"},
        {"trial": 3, "state": "succeeded", "eval_loss": 1.2}], "eval_loss")
    assert [r["trial"] for r in ranked] == [3, 1, 2]
    assert [r["best"] for r in ranked] == [True, False, False]


def test_recipe_round_trips_through_toml(tmp_path):
    recipe = TrainRecipe(method="qlora", use_dora=True, learning_rate=1e-4, target_modules="q_proj")
    path = tmp_path / "recipe.toml"
    path.write_text(to_toml(recipe, {"base": "smollm2"}))
    loaded, extra = load_toml(path)
    assert loaded == recipe and extra == {"base": "smollm2"}


@pytest.mark.parametrize("strategy", ["ddp", "fsdp"])
def test_accelerate_reads_the_generated_config(tmp_path, strategy):
    from accelerate.commands.config.config_args import ClusterConfig

    path = write_accelerate_config(tmp_path / "accelerate.yaml", 4, strategy, "bf16",
                                   "LlamaDecoderLayer")
    config = ClusterConfig.from_yaml_file(str(path))
    assert config.num_processes == 4 and config.mixed_precision == "bf16"
    assert str(config.distributed_type).endswith("MULTI_GPU" if strategy == "ddp" else "FSDP")
    if strategy == "fsdp":
        assert config.fsdp_config["fsdp_transformer_layer_cls_to_wrap"] == "LlamaDecoderLayer"
    with pytest.raises(ValueError, match="gpus must be 2 or more"):
        accelerate_config(1)


def test_memory_estimate_orders_methods_and_refuses_what_does_not_fit(tiny_llama_folder):
    from engine.models.device import DeviceInfo

    roomy = DeviceInfo("cpu", "test", 64 * 2**30, False)
    full = estimate(tiny_llama_folder, TrainRecipe(method="full"), roomy)
    lora = estimate(tiny_llama_folder, TrainRecipe(method="lora"), roomy)
    qlora = estimate(tiny_llama_folder, TrainRecipe(method="qlora"), roomy)
    assert full.optimizer > lora.optimizer and lora.weights > qlora.weights
    assert full.fits and not full.suggestions
    small = DeviceInfo("cpu", "test", 200 * 2**20, False)
    short = estimate(tiny_llama_folder, TrainRecipe(method="full", batch_size=8), small)
    assert not short.fits and any("lora" in s for s in short.suggestions)
