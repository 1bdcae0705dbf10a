"""`enclave train …`: bad settings are refused before anything starts; a run trains as a job."""

from __future__ import annotations

import json

import pytest

from engine.cli import main


def _json(capsys, *argv) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture
def project(capsys, tiny_records):
    from engine import paths
    from engine.store import datasets, open_store

    code, out = _json(capsys, "create-project", "Ward B")
    db = open_store(paths.workspace_db())
    datasets.add_version(db, out["project_id"], "colours", "import", tiny_records,
                         [str(i) for i in range(len(tiny_records))], role="pool")
    return "Ward B"


@pytest.mark.parametrize("flags, message", [
    (["--learning-rate", "-0.001"], "learning_rate must be > 0"),
    (["--batch-size", "0"], "batch_size must be >= 1"),
    (["--max-length", "4096"], "max_length 4096 is beyond what"),
    (["--set", "precision=bf16"], "precision bf16 needs a CUDA GPU"),
    (["--task", "classification"], "classification needs an encoder model"),
])
def test_bad_settings_get_a_clear_message_before_anything_starts(
        capsys, project, tiny_llama_folder, flags, message):
    code, out = _json(capsys, "train", project, "--base", str(tiny_llama_folder),
                      "--method", "lora", *flags)
    assert code == 1 and message in out["error"]
    assert _json(capsys, "jobs")[1]["jobs"] == []


def test_qlora_where_bitsandbytes_cannot_run_is_refused(capsys, project, tiny_llama_folder,
                                                         monkeypatch):
    from engine.train import preflight

    # This machine runs bitsandbytes; stand in for one that cannot.
    monkeypatch.setattr(preflight, "bitsandbytes_problem", lambda kind: "no 4-bit kernels")
    code, out = _json(capsys, "train", project, "--base", str(tiny_llama_folder),
                      "--method", "qlora")
    assert code == 1 and "QLoRA cannot run here: no 4-bit kernels" in out["error"]


def test_recipe_file_errors_name_the_file(capsys, project, tmp_path):
    recipe = tmp_path / "bad.toml"
    recipe.write_text('base = "smollm2"\n[train]\nepochs = 0\n')
    code, out = _json(capsys, "train", project, "--recipe", str(recipe))
    assert code == 1 and "bad.toml [train]: epochs must be >= 1" in out["error"]


def test_check_prints_the_memory_estimate(capsys, project, tiny_llama_folder):
    code, out = _json(capsys, "train", project, "--base", str(tiny_llama_folder),
                      "--method", "full", "--check")
    estimate = out["memory_estimate"]
    assert code == 0 and estimate["fits"] and estimate["trainable_parameters"] > 0
    assert out["recipe"]["learning_rate"] == 2e-5


def test_train_runs_as_a_job_and_lands_in_the_store(capsys, project, tiny_llama_folder):
    code, out = _json(capsys, "train", project, "--base", str(tiny_llama_folder),
                      "--method", "lora", "--max-steps", "3", "--max-length", "48",
                      "--learning-rate", "0.005", "--set", "eval_fraction=0.2")
    assert code == 0 and out["state"] == "succeeded" and out["steps"] == 3
    assert out["eval_loss"] is not None
    code, listed = _json(capsys, "train-runs", project)
    assert [run["run"] for run in listed["runs"]] == [out["run_id"]]
    code, again = _json(capsys, "train-resume", str(out["run_id"]))
    assert code == 1 and "already finished" in again["error"]


def test_train_search_refuses_a_bad_space_before_any_trial(capsys, project, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text('[search]\nstrategy = "bayes"\n[search.space]\nrank = [4]\n')
    code, out = _json(capsys, "train-search", project, "--space", str(space))
    assert code == 1 and "strategy must be grid or random" in out["error"]
    assert _json(capsys, "jobs")[1]["jobs"] == []


def test_reweight_by_flag_sets_the_recipe_field(capsys, project, tiny_llama_folder):
    code, out = _json(capsys, "train", project, "--base", str(tiny_llama_folder),
                      "--method", "lora", "--reweight-by", "ward", "--check")
    assert code == 0 and out["recipe"]["reweight_by"] == "ward"
