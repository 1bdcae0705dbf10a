"""Two processes (torchrun, gloo on the CPU) train as one process with the same global batch,
and a run whose rank 1 is killed resumes from the newest checkpoint onto the same curve."""

from __future__ import annotations

import signal
import time

import psutil
import pytest

from engine.progress import Reporter
from engine.train import checkpoints, launch
from engine.train.loop import train
from engine.train.recipe import TrainRecipe
from engine.train.worker import write_spec

# Dropout off: every rank would draw the same masks, unlike one process over more rows.
RECIPE = TrainRecipe(rank=4, alpha=8, dropout=0.0, learning_rate=5e-3, max_steps=8,
                     batch_size=2, grad_accum=1, max_length=48, seed=5, checkpoint_every=2,
                     checkpoint_minutes=0, keep_checkpoints=3, eval_fraction=0.2,
                     eval_every=4)
TWO = launch.LaunchPlan(processes=2)


def _launched(folder, records, tmp_path, name, reporter=None):
    run = tmp_path / name
    return launch.run_launched(TWO, folder, records, RECIPE, run / "output",
                               run / "checkpoints", reporter or Reporter())


@pytest.fixture(scope="module")
def two_process_run(tiny_llama_folder, tiny_records, tmp_path_factory):
    events = []
    result = _launched(tiny_llama_folder, tiny_records, tmp_path_factory.mktemp("ddp"),
                       "run", Reporter(events.append))
    return result, events


def test_two_processes_follow_one_process_with_the_same_global_batch(
        two_process_run, tiny_llama_folder, tiny_records, tmp_path):
    result, events = two_process_run
    from dataclasses import replace

    one = train(tiny_llama_folder, tiny_records, replace(RECIPE, grad_accum=2),
                tmp_path / "one")
    assert result["steps"] == one.steps == 8
    two_losses = [loss for _, loss in result["losses"]]
    one_losses = [loss for _, loss in one.losses]
    assert two_losses == pytest.approx(one_losses, rel=2e-3, abs=2e-3)
    assert [v for _, v in result["eval_losses"]] == pytest.approx(
        [v for _, v in one.eval_losses], rel=2e-3)
    assert two_losses[-1] < two_losses[0]
    # Rank 0's progress reached the reporter, one event a step, with its metrics.
    steps = [e.step for e in events if "loss" in e.metrics]
    assert steps == list(range(1, 9))
    assert (tmp_path.parent / "adapter_model.safetensors").exists() is False
    from pathlib import Path

    assert (Path(result["adapter_dir"]) / "adapter_model.safetensors").is_file()


def _pid_of_rank(launcher: psutil.Process, rank: str) -> int | None:
    for child in launcher.children(recursive=True):
        try:
            if child.environ().get("RANK") == rank and "engine.train.worker" in child.cmdline():
                return child.pid
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


def test_killing_one_rank_then_resuming_lands_on_the_same_curve(
        two_process_run, tiny_llama_folder, tiny_records, tmp_path):
    import subprocess

    reference, _ = two_process_run
    run = tmp_path / "killed"
    spec = write_spec(run / "launch", base=tiny_llama_folder, records=tiny_records,
                      eval_records=None, recipe=RECIPE.to_dict(), out_dir=run / "output",
                      checkpoint_dir=run / "checkpoints")
    process = subprocess.Popen(launch.launch_command(TWO, spec, gpu=False),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not checkpoints.complete(run / "checkpoints") and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before its first checkpoint"
        time.sleep(0.05)
    victim = _pid_of_rank(psutil.Process(process.pid), "1")
    assert victim is not None
    psutil.Process(victim).send_signal(signal.SIGKILL)
    assert process.wait(timeout=120) != 0
    assert not (run / "output").exists()
    kept = checkpoints.complete(run / "checkpoints")
    assert kept

    resumed = _launched(tiny_llama_folder, tiny_records, tmp_path, "killed")
    assert resumed["resumed_from"] == int(kept[-1].name.split("-")[1]) >= 1
    assert resumed["steps"] == 8
    tail = resumed["resumed_from"]
    assert [loss for _, loss in resumed["losses"]][tail:] == pytest.approx(
        [loss for _, loss in reference["losses"]][tail:], rel=2e-3, abs=2e-3)


def test_a_cancel_stops_every_rank_and_keeps_the_checkpoints(
        tiny_llama_folder, tiny_records, tmp_path):
    from engine.progress import Cancelled

    seen = []

    def stop() -> bool:
        return any(event.step >= 3 for event in seen)

    with pytest.raises(Cancelled):
        _launched(tiny_llama_folder, tiny_records, tmp_path, "cancelled",
                  Reporter(seen.append, stop))
    assert not (tmp_path / "cancelled" / "output").exists()
    assert checkpoints.complete(tmp_path / "cancelled" / "checkpoints")


def test_plans_refuse_what_cannot_run():
    with pytest.raises(ValueError, match="main_address"):
        launch.LaunchPlan(processes=1, machines=2)
    with pytest.raises(ValueError, match="machine_rank"):
        launch.LaunchPlan(machines=2, machine_rank=2, main_address="10.0.0.1", main_port=1)
    with pytest.raises(ValueError, match="fsdp"):
        launch.check_plan(launch.LaunchPlan(processes=2, strategy="fsdp"), "lora")
    with pytest.raises(ValueError, match="unknown field"):
        launch.LaunchPlan.from_dict({"gpus": 2})


def test_commands_use_the_maintained_launchers(tmp_path):
    spec = tmp_path / "spec.json"
    cpu = launch.launch_command(launch.LaunchPlan(processes=2), spec, gpu=False)
    assert cpu[2:4] == ["engine.train.launch", "torchrun"]
    assert "--nproc-per-node=2" in cpu and "--standalone" in cpu
    assert cpu[-3:] == ["-m", "engine.train.worker", str(spec)]
    cluster = launch.LaunchPlan(processes=4, machines=2, machine_rank=1,
                                main_address="10.1.2.3", main_port=29500)
    gpu = launch.launch_command(cluster, spec, gpu=True)
    assert gpu[3] == "accelerate"
    assert gpu[gpu.index("--num_processes") + 1] == "8"
    assert gpu[gpu.index("--machine_rank") + 1] == "1"
    import yaml

    config = yaml.safe_load((tmp_path / "accelerate-machine1.yaml").read_text())
    assert config["num_machines"] == 2 and config["machine_rank"] == 1
    assert config["main_process_ip"] == "10.1.2.3" and config["num_processes"] == 8
