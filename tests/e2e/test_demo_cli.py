"""`enclave demo --quick --json`: every stage, real bundled models, sockets blocked."""

import json
import os
import subprocess
import sys

import pytest

from engine import paths
from engine.store import datasets, open_store, runs


@pytest.mark.slow
def test_quick_demo_runs_every_stage_and_stores_everything():
    assert os.environ["ENCLAVE_BLOCK_NETWORK"] == "1"  # the job process refuses the network
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "demo", "--quick", "--json"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["ok"] and summary["selected"] == 16
    assert summary["records_valid"] < summary["records_in"]
    assert summary["records_quarantined"] > 0
    assert summary["ppl_tuned"] < summary["ppl_base"]
    assert summary["loss_end"] < summary["loss_start"]
    assert summary["size_tuned_8bit_mb"] < summary["size_tuned_mb"]
    db = open_store(paths.workspace_db())
    kinds = [d["kind"] for d in datasets.list_for_project(db, summary["project_id"])]
    assert kinds == ["import", "clean", "split", "split", "selection"]
    run = runs.list_for_project(db, summary["project_id"])[0]
    assert run["summary"]["ppl_tuned"] == summary["ppl_tuned"]
    assert len(runs.series(db, run["id"], "loss")) == summary["train_steps"]
    assert {a["kind"] for a in runs.artifacts(db, summary["project_id"])} >= {
        "embeddings", "lora-adapter", "merged-model"}
    assert db["audit_log"].count > 0
