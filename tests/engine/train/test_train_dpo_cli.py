"""`enclave train PROJECT --method dpo` and `enclave train-pairs`: checks first, then a job."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.train import preferences

PAIRS = [{"prompt": f"Dose for patient {i}?", "chosen": f"Check the chart of patient {i}.",
          "rejected": "Double it."} for i in range(6)]


def _json(capsys, *argv) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture
def project(capsys) -> str:
    _json(capsys, "create-project", "Ward D")
    return "Ward D"


@pytest.fixture
def pairs_file(tmp_path):
    return preferences.write_pairs_file(PAIRS, tmp_path / "pairs.jsonl")


@pytest.mark.parametrize("flags, message", [
    ([], "No preference pairs in the reviews of project 1. In the Review tab"),
    (["--set", "min_pairs=10", "--pairs", "PAIRS"],
     "Only 6 preference pair(s) in PAIRS; DPO needs at least 10"),
    (["--pairs", "nowhere.jsonl"], "--pairs 'nowhere.jsonl': no such file"),
    (["--beta", "0"], "beta must be > 0"),
    (["--eval-fraction", "0.1"], "--eval-fraction does not apply to --method dpo"),
    (["--from-run", "7"], "give --base or --from-run, not both"),
])
def test_bad_dpo_requests_are_refused_before_any_job(capsys, project, pairs_file,
                                                     tiny_llama_folder, flags, message):
    flags = [str(pairs_file) if flag == "PAIRS" else flag for flag in flags]
    message = message.replace("PAIRS", str(pairs_file))
    code, out = _json(capsys, "train", project, "--method", "dpo", "--base",
                      str(tiny_llama_folder), *flags)
    assert code == 1 and message in out["error"]
    assert _json(capsys, "jobs")[1]["jobs"] == []


def test_from_a_run_that_is_not_a_training_run(capsys, project):
    code, out = _json(capsys, "train", project, "--method", "dpo", "--from-run", "3")
    assert code == 1 and "run 3 is not a training run of project 1" in out["error"]


def test_bad_pairs_file_names_the_line_and_field(capsys, project, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": "p"}\n')
    code, out = _json(capsys, "train-pairs", project, "--import", str(bad))
    assert code == 1 and f"{bad} line 2: field 'chosen' is missing" in out["error"]


def test_check_counts_pairs_and_estimates_memory_without_storing(capsys, project, pairs_file,
                                                                 tiny_llama_folder):
    code, out = _json(capsys, "train", project, "--method", "dpo", "--base",
                      str(tiny_llama_folder), "--pairs", str(pairs_file), "--beta", "0.2",
                      "--check")
    assert code == 0 and out["pairs"] == 6 and out["recipe"]["beta"] == 0.2
    assert out["memory_estimate"]["fits"]
    code, listed = _json(capsys, "train-pairs", project)
    assert listed["datasets"] == [] and _json(capsys, "jobs")[1]["jobs"] == []


def test_train_pairs_imports_and_counts(capsys, project, pairs_file, tmp_path):
    code, out = _json(capsys, "train-pairs", project, "--import", str(pairs_file))
    assert code == 0 and out["imported_pairs"] == 6
    assert out["from_reviews"] == {"preferences": 0, "corrections": 0, "total": 0}
    assert out["datasets"] == [{"id": out["imported_dataset"], "name": "preference-pairs",
                                "version": 1, "pairs": 6}]
    code, out = _json(capsys, "train-pairs", project, "--export", str(tmp_path / "o.jsonl"))
    assert code == 1 and "No preference pairs in the reviews" in out["error"]


def test_dpo_runs_as_a_job_and_is_listed_with_the_training_runs(capsys, project, pairs_file,
                                                                tiny_llama_folder):
    code, out = _json(capsys, "train", project, "--method", "dpo", "--base",
                      str(tiny_llama_folder), "--pairs", str(pairs_file), "--max-steps", "2",
                      "--batch-size", "3", "--max-length", "48", "--learning-rate", "0.005")
    assert code == 0 and out["state"] == "succeeded", out
    assert out["steps"] == 2 and out["pairs"] == 6 and out["reward_margin"] is not None
    code, listed = _json(capsys, "train-runs", project)
    assert [(r["run"], r["method"], r["beta"]) for r in listed["runs"]] == [
        (out["run_id"], "dpo", 0.1)]
    code, again = _json(capsys, "train-resume", str(out["run_id"]))
    assert code == 1 and "is a DPO run" in again["error"]
