"""`enclave eval`, `report`, `drift` and `review-export` through jobs in child processes."""

from __future__ import annotations

import json
import random

from engine.cli import main
from engine.data.demo_clinical import clinical_record
from engine.store import evaluations


def _json(capsys, *argv) -> tuple[int, dict]:
    code = main([*map(str, argv), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_eval_then_report_then_export(capsys, workspace_project, tmp_path):
    code, out = _json(capsys, "eval", workspace_project["run_id"], "--limit", 4,
                      "--max-new-tokens", 6)
    assert code == 0, out
    assert out["items"] == 4 and set(out["sides"]) == {"base", "tuned"}
    eval_run = out["eval_run_id"]

    code, out = _json(capsys, "report", eval_run, "--html", tmp_path / "r.html",
                      "--pdf", tmp_path / "r.pdf")
    assert code == 0, out
    page = (tmp_path / "r.html").read_text()
    assert "Side by side" in page and "Fairness by kind" in page and "<svg" in page
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")

    code, out = _json(capsys, "review-export", eval_run)
    assert code == 1 and "no corrected answer" in out["error"]
    evaluations.add_review(workspace_project["db"], eval_run, 0, "tuned", 2,
                           correction="Item 30 is red.")
    code, out = _json(capsys, "review-export", eval_run)
    assert code == 0 and out["dataset_id"]


def test_report_and_eval_refuse_bad_runs(capsys, workspace_project, tmp_path):
    code, out = _json(capsys, "report", workspace_project["run_id"], "--html", tmp_path / "x")
    assert code == 1 and "not an evaluation" in out["error"]
    code, out = _json(capsys, "eval", 999)
    assert code == 1 and "run 999 does not exist" in out["error"]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_drift_flags_shifted_file_and_passes_unshifted(capsys, workspace_project, tmp_path):
    same = _write(tmp_path / "same.jsonl", workspace_project["records"][1:30:3])
    rng = random.Random(0)
    shifted = _write(tmp_path / "shifted.jsonl", [clinical_record(rng) for _ in range(12)])
    code, out = _json(capsys, "drift", "Eval", same)
    assert code == 0 and out["drifted"] is False, out["reasons"]
    code, out = _json(capsys, "drift", "Eval", shifted)
    assert code == 0 and out["drifted"] is True and out["drivers"]
    code, out = _json(capsys, "drift", "Nope", shifted)
    assert code == 1 and "No project named 'Nope'" in out["error"]
