import json

import pytest

from engine.cli import main
from engine.compress.checksums import verify_export
from engine.compress.job import run_compress, run_export
from engine.compress.recipe import CompressRecipe, CompressRequestError
from engine.models.run_models import RunModelError
from engine.progress import Reporter
from engine.store import audit, runs


def _json(capsys, *argv) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("recipe", [
    CompressRecipe(method="gguf", gguf_type="q8_0", eval_records=4, max_length=32),
    CompressRecipe(method="distill", student_layers=1, distill_steps=2, eval_records=4,
                   max_length=32),
], ids=lambda r: r.method)
def test_compress_stores_a_run_with_a_comparison(workspace, recipe):
    db, run_id = workspace
    events: list = []
    summary = run_compress(db, run_id, recipe, Reporter(events.append))
    names = [row["name"] for row in summary["variants"]]
    assert names[0] == "tuned fp32" and len(names) == 2
    for row in summary["variants"]:
        assert row["size_mb"] > 0 and row["tokens_per_s"] > 0 and row["ppl"] > 1
    new_run = next(r for r in runs.list_for_project(db, 1) if r["id"] == summary["run_id"])
    assert new_run["kind"] == "compress" and new_run["summary"]["source_run_id"] == run_id
    kinds = [a["kind"] for a in runs.artifacts(db, 1) if a["run_id"] == summary["run_id"]]
    assert kinds == ["compressed-model"]
    assert any(e["action"] == "model.compress" for e in audit.entries(db))
    assert {e.stage for e in events} >= {"compress", "measure"}


def test_export_writes_card_and_verified_checksums(workspace, tmp_path):
    db, run_id = workspace
    out = tmp_path / "export"
    result = run_export(db, run_id, "safetensors", out, dtype="float16",
                        reporter=Reporter())
    assert result["verified"] and verify_export(out).ok
    card = (out / "README.md").read_text()
    assert "## Data versions" in card and "ward-train" in card and "## Limits" in card
    assert any(e["action"] == "model.export" for e in audit.entries(db))
    with pytest.raises(CompressRequestError, match="already exists"):
        run_export(db, run_id, "gguf", out, reporter=Reporter())


def test_missing_run_is_named(workspace):
    db, _ = workspace
    with pytest.raises(RunModelError, match="run 99 does not exist"):
        run_compress(db, 99, CompressRecipe(), Reporter())


def test_cli_refuses_bad_requests_before_any_job(workspace, capsys):
    db, run_id = workspace
    code, out = _json(capsys, "compress", str(run_id), "--method", "prune",
                      "--sparsity", "1.5")
    assert code == 1 and "'sparsity'" in out["error"] and "outside 0-1" in out["error"]
    code, out = _json(capsys, "compress", str(run_id), "--method", "prune",
                      "--set", "colour=red")
    assert code == 1 and "unknown field 'colour'" in out["error"]
    assert db["jobs"].count == 0


def test_cli_compress_and_export_run_as_jobs(workspace, capsys, tmp_path):
    db, run_id = workspace
    code, out = _json(capsys, "compress", str(run_id), "--method", "prune",
                      "--sparsity", "0.3", "--eval-records", "2")
    assert code == 0, out
    assert out["variants"][1]["sparsity"] == pytest.approx(0.3, abs=0.01)
    code, out = _json(capsys, "export", str(out["run_id"]), str(tmp_path / "gguf"),
                      "--format", "gguf")
    assert code == 0 and out["verified"], out
    code, out = _json(capsys, "verify-export", str(tmp_path / "gguf"))
    assert code == 0 and out["files"] == 3  # model-f16.gguf, Modelfile, README.md


def test_merge_of_an_adapter_run_compares_base_tuned_and_merged(workspace, tiny_llama,
                                                                tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model

    from engine.models.loading import load_causal_lm

    db, _ = workspace
    torch.manual_seed(0)
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                      init_lora_weights=False, task_type="CAUSAL_LM")
    adapter = tmp_path / "adapter"
    get_peft_model(load_causal_lm(tiny_llama), lora).save_pretrained(adapter)
    run_id = runs.create(db, 1, "train", "adapter only")
    runs.add_artifact(db, 1, "lora-adapter", adapter, run_id)
    recipe = CompressRecipe(method="merge", dtype="bfloat16", eval_records=4, max_length=32)
    summary = run_compress(db, run_id, recipe, Reporter())
    rows = {row["name"]: row for row in summary["variants"]}
    assert list(rows) == ["base", "tuned fp32", "merged bfloat16"]
    assert rows["merged bfloat16"]["size_mb"] < 0.6 * rows["tuned fp32"]["size_mb"]
    assert rows["merged bfloat16"]["ppl"] == pytest.approx(rows["tuned fp32"]["ppl"], rel=0.05)
    assert rows["base"]["ppl"] != rows["tuned fp32"]["ppl"]
