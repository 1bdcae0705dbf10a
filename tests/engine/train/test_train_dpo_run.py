"""DPO through trl on a tiny Llama: a few steps write an adapter; cancel; a run from a run."""

from __future__ import annotations

import json

import pytest

from engine import paths
from engine.jobs.registry import JobContext
from engine.progress import Cancelled, Reporter
from engine.store import jobs, open_store, projects, runs
from engine.train import preferences
from engine.train.dpo_recipe import DpoRecipe

# Small and regular: the tiny model learns to prefer the right colour within a few steps.
PAIRS = [{"prompt": f"What colour is item {i}?", "chosen": f"Item {i} is red.",
          "rejected": f"I cannot say what item {i} is."} for i in range(8)]
FAST = {"max_steps": 3, "batch_size": 4, "max_length": 48, "learning_rate": 5e-3,
        "warmup_ratio": 0.0}


def test_dpo_trains_a_few_steps_and_writes_an_adapter(tiny_llama_folder, tmp_path):
    from safetensors.torch import load_file

    from engine.train.dpo import train_dpo

    events = []
    result = train_dpo(tiny_llama_folder, PAIRS, DpoRecipe(**FAST), tmp_path / "adapter",
                       Reporter(events.append))
    assert result.steps == 3 and [e.step for e in events] == [1, 2, 3]
    assert {"loss", "lr", "reward_accuracy", "reward_margin", "reward_chosen",
            "reward_rejected", "tokens_per_s", "eta_s"} <= set(events[0].metrics)
    # Before the first update policy and reference agree: the DPO loss is log 2.
    assert result.series("loss")[0] == pytest.approx(0.6931, abs=1e-3)
    assert result.series("reward_margin")[-1] > 0
    assert result.series("reward_accuracy")[-1] == 1.0
    saved = json.loads((result.adapter_dir / "enclave_recipe.json").read_text())
    assert saved["method"] == "dpo" and saved["pairs"] == 8 and saved["recipe"]["beta"] == 0.1
    assert "trl" in saved["versions"]
    weights = load_file(str(result.adapter_dir / "adapter_model.safetensors"))
    assert any("lora_B" in name and tensor.abs().sum() > 0 for name, tensor in weights.items())
    assert not any(".ref." in name for name in weights)  # only the trained adapter is saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter"]  # no temporary left


def test_cancel_stops_before_the_next_step_and_writes_nothing(tiny_llama_folder, tmp_path):
    from engine.train.dpo import train_dpo

    events = []
    reporter = Reporter(events.append, stop_requested=lambda: bool(events))
    with pytest.raises(Cancelled):
        train_dpo(tiny_llama_folder, PAIRS, DpoRecipe(**FAST), tmp_path / "adapter", reporter)
    assert [e.step for e in events] == [1]
    assert list(tmp_path.iterdir()) == []


def _sft_run(db, project_id: int, folder, tmp_path) -> int:
    """A finished LoRA run of the project (2 steps), recorded like the train job does."""
    from engine.train.loop import train
    from engine.train.recipe import TrainRecipe

    records = [{"prompt": p["prompt"], "response": p["rejected"]} for p in PAIRS]
    recipe = TrainRecipe(max_steps=2, batch_size=4, max_length=48, learning_rate=1e-2)
    result = train(folder, records, recipe, tmp_path / "sft")
    run_id = runs.create(db, project_id, "train", "lora", {"base": str(folder),
                                                           "train": recipe.to_dict()})
    runs.set_summary(db, run_id, {"steps": 2, "output": str(result.adapter_dir)})
    runs.add_artifact(db, project_id, "lora-adapter", result.adapter_dir, run_id)
    return run_id


def test_dpo_job_from_a_tuned_run_records_a_run_with_its_metrics(tiny_llama_folder, tmp_path):
    from engine.train.dpo_job import run_dpo_job

    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward DPO")
    sft_run = _sft_run(db, project_id, tiny_llama_folder, tmp_path)
    pairs_file = preferences.write_pairs_file(PAIRS, tmp_path / "pairs.jsonl")
    dataset_id = preferences.import_pairs(db, project_id, pairs_file)
    params = {"recipe": {**FAST, "max_steps": 2}, "from_run": sft_run,
              "pairs_dataset": dataset_id}
    job_id = jobs.create(db, "train.dpo", params, project_id)
    out = run_dpo_job(JobContext(db, job_id, project_id, params))
    run = db["runs"].get(out["run_id"])
    recipe = json.loads(run["recipe"])
    assert run["kind"] == "train" and recipe["train"]["method"] == "dpo"
    assert recipe["from_run"] == sft_run and recipe["dataset_id"] == dataset_id
    assert recipe["init_adapter"].endswith("sft")
    # The reference is the run's tuned adapter: at step 1 policy == reference, margin 0.
    margins = runs.series(db, out["run_id"], "reward_margin")
    assert [step for step, _ in margins] == [1, 2] and margins[0][1] == pytest.approx(0, abs=1e-6)
    assert [s for s, _ in runs.series(db, out["run_id"], "reward_accuracy")] == [1, 2]
    assert out["steps"] == 2 and out["pairs"] == 8 and out["reward_accuracy"] is not None
    artifact = next(db["artifacts"].rows_where("run_id = ?", [out["run_id"]]))
    assert artifact["kind"] == "lora-adapter" and artifact["path"] == out["output"]
    config = json.loads((tmp_path.parent / out["output"] / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_llama_folder)


def test_dpo_job_with_too_few_review_pairs_says_how_to_add_some(tiny_llama_folder):
    from engine.train.dpo_job import run_dpo_job

    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward empty")
    with pytest.raises(preferences.NotEnoughPairs, match="No preference pairs in the reviews"):
        run_dpo_job(JobContext(db, None, project_id, {"base": str(tiny_llama_folder)}))
    assert db["runs"].count == 0
