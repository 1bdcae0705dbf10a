"""Kill the training process hard after a checkpoint, resume, and land on the same losses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from engine.train import checkpoints
from engine.train.loop import train
from engine.train.recipe import TrainRecipe
from engine.train.schedule import checkpoint_folder

RECIPE = TrainRecipe(rank=4, alpha=8, dropout=0.1, learning_rate=5e-3, max_steps=10,
                     batch_size=4, max_length=48, seed=3, checkpoint_every=3,
                     keep_checkpoints=2)

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
    if event.step == 7:
        print("past-checkpoint", flush=True)
        time.sleep(600)

train(Path(folder), records, TrainRecipe(**recipe), Path(out_dir), Reporter(sink))
"""


def test_sigkill_then_resume_matches_an_uninterrupted_run(tiny_llama_folder, tiny_records,
                                                          tmp_path):
    reference = train(tiny_llama_folder, tiny_records, RECIPE, tmp_path / "reference")

    records_file = tmp_path / "records.json"
    records_file.write_text(json.dumps(tiny_records))
    out_dir = tmp_path / "killed"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tiny_llama_folder), str(out_dir),
         json.dumps(RECIPE.to_dict()), str(records_file)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert child.stdout.readline().strip() == "past-checkpoint"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    folder = checkpoint_folder(out_dir)
    assert [p.name for p in checkpoints.complete(folder)] == ["step-0000003", "step-0000006"]
    assert not out_dir.exists()
    (folder / "step-0000009").mkdir()  # a half-written checkpoint never counts

    resumed = train(tiny_llama_folder, tiny_records, RECIPE, out_dir)

    assert resumed.resumed_from == 6 and resumed.steps == 10
    assert [s for s, _ in resumed.losses] == list(range(1, 11))
    for (_, one), (_, two) in zip(reference.losses, resumed.losses):
        assert one == pytest.approx(two, abs=1e-4)
    assert not folder.exists()
    assert (out_dir / "adapter_model.safetensors").is_file()


def test_cancel_keeps_checkpoints_and_resume_finishes(tiny_llama_folder, tiny_records, tmp_path):
    from engine.progress import Cancelled, Reporter

    events = []
    out_dir = tmp_path / "adapter"
    with pytest.raises(Cancelled):
        train(tiny_llama_folder, tiny_records, RECIPE, out_dir,
              Reporter(events.append, stop_requested=lambda: len(events) >= 4))
    assert checkpoints.newest(checkpoint_folder(out_dir)).name == "step-0000003"
    result = train(tiny_llama_folder, tiny_records, RECIPE, out_dir)
    assert result.resumed_from == 3 and result.steps == 10
