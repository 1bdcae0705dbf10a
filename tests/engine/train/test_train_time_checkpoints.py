"""Short runs checkpoint early: by time, and once after the first 10 % of steps on CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from engine.progress import Cancelled, Reporter
from engine.train import checkpoints
from engine.train.loop import train
from engine.train.recipe import TrainRecipe
from engine.train.schedule import checkpoint_folder

SHORT = TrainRecipe(rank=4, alpha=8, learning_rate=5e-3, max_steps=30, batch_size=2,
                    max_length=48, seed=1)

CHILD = """
import json, sys, time
from pathlib import Path
import engine
from engine.progress import Reporter
from engine.train.loop import train
from engine.train.recipe import TrainRecipe

folder, out_dir, recipe = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
records = json.loads(Path(sys.argv[4]).read_text())

def sink(event):
    if event.step == 5:
        print("at-step-5", flush=True)
        time.sleep(600)

train(Path(folder), records, TrainRecipe(**recipe), Path(out_dir), Reporter(sink))
"""


def test_recipe_checkpoints_every_five_minutes_by_default():
    assert TrainRecipe().checkpoint_minutes == 5
    assert TrainRecipe().checkpoint_every == 50
    with pytest.raises(ValueError, match="checkpoint_minutes"):
        TrainRecipe(checkpoint_minutes=-1)


def test_a_30_step_run_killed_early_resumes_from_its_early_checkpoint(
        tiny_llama_folder, tiny_records, tmp_path):
    records_file = tmp_path / "records.json"
    records_file.write_text(json.dumps(tiny_records))
    out_dir = tmp_path / "adapter"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tiny_llama_folder), str(out_dir),
         json.dumps(SHORT.to_dict()), str(records_file)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert child.stdout.readline().strip() == "at-step-5"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    folder = checkpoint_folder(out_dir)
    assert [p.name for p in checkpoints.complete(folder)] == ["step-0000003"]

    resumed = train(tiny_llama_folder, tiny_records, SHORT, out_dir)

    assert resumed.resumed_from == 3 and resumed.steps == 30
    assert [s for s, _ in resumed.losses] == list(range(1, 31))


def test_time_checkpoints_without_step_checkpoints(tiny_llama_folder, tiny_records, tmp_path):
    recipe = TrainRecipe(rank=4, alpha=8, max_steps=8, batch_size=2, max_length=48,
                         checkpoint_every=0, checkpoint_minutes=1e-9, keep_checkpoints=1)
    events = []
    out_dir = tmp_path / "adapter"
    with pytest.raises(Cancelled):
        train(tiny_llama_folder, tiny_records, recipe, out_dir,
              Reporter(events.append, stop_requested=lambda: len(events) >= 6))
    assert checkpoints.newest(checkpoint_folder(out_dir)).name == "step-0000006"
