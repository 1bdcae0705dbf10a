"""`enclave demo --quick --json`: every stage, real bundled models, sockets blocked."""

import json
import os
import subprocess
import sys

import pytest

from engine import paths
from engine.store import datasets, embeddings, open_store, runs


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
    versions = [(d["name"], d["kind"]) for d in datasets.list_for_project(db, summary["project_id"])]
    assert versions == [("clinical", "import"), ("clinical-train", "split"),
                        ("clinical-test", "split"), ("clinical-test-clean", "clean"),
                        ("clinical-clean", "clean"), ("clinical-clean-coreset", "selection")]
    assert summary["embedded"] + summary["embedded_from_cache"] == summary["train_records"]
    assert embeddings.count(db) >= summary["train_records"]
    run = runs.list_for_project(db, summary["project_id"])[0]
    assert run["summary"]["ppl_tuned"] == summary["ppl_tuned"]
    assert len(runs.series(db, run["id"], "loss")) == summary["train_steps"]
    assert {a["kind"] for a in runs.artifacts(db, summary["project_id"])} >= {
        "selection-map", "lora-adapter", "merged-model"}
    assert db["audit_log"].count > 0
