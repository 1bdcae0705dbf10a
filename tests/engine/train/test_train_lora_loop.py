"""train_lora on a tiny Llama: loss goes down, adapter saved, repeatable, cancellable."""

from __future__ import annotations

import json

import pytest

from engine.progress import Cancelled, Reporter
from engine.train.loop import train
from engine.train.recipe import TrainRecipe
from engine.train.schedule import RECIPE_FILE

RECIPE = TrainRecipe(rank=8, alpha=16, dropout=0.0, learning_rate=5e-3, max_steps=20,
                    batch_size=4, max_length=64, warmup_ratio=0.1, seed=0)


@pytest.fixture(scope="module")
def first_run(tiny_llama_folder, tiny_records, tmp_path_factory):
    events = []
    out_dir = tmp_path_factory.mktemp("lora") / "adapter"
    result = train(tiny_llama_folder, tiny_records, RECIPE, out_dir, Reporter(events.append))
    return result, events


def test_loss_decreases_and_adapter_is_saved(first_run):
    result, events = first_run

    assert result.steps == 20 and len(result.losses) == 20
    assert result.last_loss < result.first_loss
    assert result.tokens > 0 and result.seconds > 0
    files = {path.name for path in result.adapter_dir.iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", RECIPE_FILE} <= files
    saved = json.loads((result.adapter_dir / RECIPE_FILE).read_text())
    assert saved["recipe"]["max_steps"] == 20 and "torch" in saved["versions"]
    config = json.loads((result.adapter_dir / "adapter_config.json").read_text())
    assert sorted(config["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    assert not [p for p in result.adapter_dir.parent.iterdir() if p.name.startswith(".")]


def test_every_step_reports_loss_lr_and_speed(first_run):
    _, events = first_run
    assert [event.step for event in events] == list(range(1, 21))
    assert all(event.total == 20 for event in events)
    assert all({"loss", "lr", "tokens_per_s"} <= set(event.metrics) for event in events)


def test_same_seed_gives_same_losses(first_run, tiny_llama_folder, tiny_records, tmp_path):
    result, _ = first_run
    again = train(tiny_llama_folder, tiny_records, RECIPE, tmp_path / "adapter")
    assert [step for step, _ in again.losses] == [step for step, _ in result.losses]
    for (_, one), (_, two) in zip(result.losses, again.losses):
        assert one == pytest.approx(two, abs=1e-5)


def test_cancel_after_step_three_leaves_no_adapter(tiny_llama_folder, tiny_records, tmp_path):
    events = []
    reporter = Reporter(events.append, stop_requested=lambda: len(events) >= 3)
    out_dir = tmp_path / "adapter"

    with pytest.raises(Cancelled):
        train(tiny_llama_folder, tiny_records, RECIPE, out_dir, reporter)
    assert len(events) == 3
    assert not out_dir.exists()
    # only resumable checkpoints may stay (one is taken early on the CPU), never a partial one
    left = [p.name for p in tmp_path.iterdir()]
    assert left in ([], ["adapter.checkpoints"])
    for checkpoint in (tmp_path / "adapter.checkpoints").glob("*"):
        assert not checkpoint.name.startswith(".")


def test_epochs_decide_steps_with_grad_accum(tiny_llama_folder, tiny_records, tmp_path):
    recipe = TrainRecipe(max_steps=0, epochs=1, batch_size=4, grad_accum=2, max_length=64,
                        optimizer="sgd", scheduler="constant")
    result = train(tiny_llama_folder, tiny_records[:16], recipe, tmp_path / "adapter")
    assert result.steps == 2 and len(result.losses) == 2
