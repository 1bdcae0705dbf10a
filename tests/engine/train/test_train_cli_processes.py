"""`enclave train … --gpus 2`: the training job runs Enclave's loop on two processes (CPU
processes here, under the job's network and program walls), and bad launch flags are refused
before a job starts."""

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

    code, out = _json(capsys, "create-project", "Ward C")
    db = open_store(paths.workspace_db())
    datasets.add_version(db, out["project_id"], "colours", "import", tiny_records,
                         [str(i) for i in range(len(tiny_records))], role="pool")
    return "Ward C"


def test_a_two_process_run_is_a_job_with_a_stored_plan(capsys, project, tiny_llama_folder):
    code, out = _json(capsys, "train", project, "--base", str(tiny_llama_folder),
                      "--method", "lora", "--max-steps", "4", "--batch-size", "2",
                      "--max-length", "48", "--gpus", "2")
    assert code == 0, out
    assert out["state"] == "succeeded" and out["steps"] == 4 and out["processes"] == 2
    from engine import paths
    from engine.store import open_store

    db = open_store(paths.workspace_db())
    run = db["runs"].get(out["run_id"])
    assert json.loads(run["recipe"])["launch"]["processes"] == 2
    steps = {row["step"] for row in db["metrics"].rows_where("run_id = ? AND name = 'loss'",
                                                             [out["run_id"]])}
    assert steps == {1, 2, 3, 4}


@pytest.mark.parametrize("flags, message", [
    (["--gpus", "2", "--strategy", "fsdp"], "strategy fsdp shards the weights of full"),
    (["--machines", "2"], "needs main_address and main_port"),
    (["--gpus", "0"], "processes must be an integer >= 1"),
])
def test_bad_launch_flags_are_refused_before_a_job_starts(capsys, project, tiny_llama_folder,
                                                          flags, message):
    code, out = _json(capsys, "train", project, "--base", str(tiny_llama_folder),
                      "--method", "lora", *flags)
    assert code == 1 and message in out["error"]
    assert _json(capsys, "jobs")[1]["jobs"] == []


def test_cluster_configs_name_the_main_machine(capsys, tmp_path):
    import yaml

    target = tmp_path / "cluster.yaml"
    code, out = _json(capsys, "train-accelerate-config", str(target), "--gpus", "4",
                      "--machines", "2", "--machine-rank", "1", "--main-address", "10.0.0.5")
    assert code == 0
    config = yaml.safe_load(target.read_text())
    assert (config["num_processes"], config["machine_rank"], config["main_process_ip"]) == \
        (8, 1, "10.0.0.5")


def test_joining_needs_a_run_started_on_machine_zero(capsys, tmp_path):
    code, out = _json(capsys, "train-join", str(tmp_path / "launch" / "spec.json"),
                      "--machine-rank", "1", "--allow-cluster", "10.0.0.5,10.0.0.6")
    assert code == 1 and "start the run on machine 0 first" in out["error"]
