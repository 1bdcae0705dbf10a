"""Two jobs at once (bench/bench_concurrency.py, smaller): a training run succeeds while
another project imports and cleans; their progress is visible part-way, `enclave jobs`
answers within a second throughout, and a cancel reaches its final state within two."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).parents[3] / "bench" / "bench_concurrency.py"


def test_training_survives_an_import_and_a_clean_beside_it(tiny_llama_folder):
    done = subprocess.run([sys.executable, str(BENCH), "--records", "20000", "--steps", "20",
                           "--base", str(tiny_llama_folder), "--json"],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(figures)
    assert figures["train_alone_state"] == figures["train_loaded_state"] == "succeeded"
    assert figures["import_state"] == figures["clean_state"] == "succeeded"
    assert figures["import_events_partway"] >= 2 and figures["clean_events_partway"] >= 2
    assert figures["jobs_max_s"] < 1.0
    assert figures["cancel_s"] < 2.0
    assert figures["integrity"] == "ok"
