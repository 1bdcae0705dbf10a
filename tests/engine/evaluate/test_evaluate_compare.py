"""Compressed variants beside base and tuned: chosen by keyword, id or label, generated on
the same prompts, scored, stored, and refused clearly when they do not exist."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.evaluate.compare import (
    check_compare,
    format_side_table,
    parse_compare,
    side_metric_rows,
)
from engine.evaluate.job import EvalRecipe, run_evaluation
from engine.progress import Reporter
from engine.store import evaluations, runs


@pytest.fixture(scope="module")
def variant_folders(tuned_tiny, tmp_path_factory) -> dict:
    """Two real compressions of the tuned model: 30 % magnitude-pruned, and bfloat16."""
    from engine.compress.export import export_model
    from engine.compress.prune import prune_to_folder

    out = tmp_path_factory.mktemp("variants")
    prune_to_folder(tuned_tiny["merged"], out / "pruned", 0.3)
    export_model(tuned_tiny["merged"], out / "bf16", "safetensors", dtype="bfloat16")
    return {"pruned 30%": (out / "pruned", {"method": "prune", "sparsity": 0.3}),
            "merged bfloat16": (out / "bf16", {"method": "merge", "dtype": "bfloat16"})}


@pytest.fixture
def with_variants(trained_project, variant_folders) -> dict:
    """The evaluation project with its run's two compressions recorded as `compress` stores
    them (a run with the source run id, label and a compressed-model artifact)."""
    db, run_id, project_id = (trained_project[k] for k in ("db", "run_id", "project_id"))
    made = {}
    for label, (folder, recipe) in variant_folders.items():
        made[label] = runs.create(db, project_id, "compress", f"{label} of run {run_id}",
                                  {**recipe, "source_run_id": run_id})
        runs.add_artifact(db, project_id, "compressed-model", folder, made[label])
        runs.set_summary(db, made[label], {"method": recipe["method"], "label": label,
                                           "source_run_id": run_id})
    return {**trained_project, "variants": made}


def test_compare_strings_parse():
    assert parse_compare("base") == (True, [])
    assert parse_compare(None) == (False, []) and parse_compare("none") == (False, [])
    assert parse_compare("base, compressed") == (True, ["compressed"])
    assert parse_compare("8-bit,7") == (False, ["8-bit", "7"])
    with pytest.raises(ValueError, match="empty item"):
        parse_compare("base,,7")
    with pytest.raises(ValueError, match="empty item"):
        EvalRecipe(run_id=1, compare="base,")


def test_evaluation_puts_compressed_variants_beside_base_and_tuned(with_variants):
    db, variants = with_variants["db"], with_variants["variants"]
    assert set(variants) == {"pruned 30%", "merged bfloat16"}
    recipe = EvalRecipe(run_id=with_variants["run_id"], compare="base,compressed", limit=3,
                        max_new_tokens=6, max_length=64)
    events: list = []
    summary = run_evaluation(db, with_variants["project_id"], recipe, Reporter(events.append))
    names = ["base", "tuned", "tuned pruned 30%", "tuned merged bfloat16"]
    assert list(summary["sides"]) == names
    assert summary["compressed"]["tuned pruned 30%"]["run_id"] == variants["pruned 30%"]
    tuned, merged = summary["sides"]["tuned"], summary["sides"]["tuned merged bfloat16"]
    assert merged["perplexity"] == pytest.approx(tuned["perplexity"], rel=0.05)
    assert summary["sides"]["tuned pruned 30%"]["perplexity"] != tuned["perplexity"]
    items = evaluations.items_by_side(db, summary["eval_run_id"])
    assert len(items) == 3 and all(list(item["outputs"]) == sorted(names) for item in items)
    assert {"generate tuned pruned 30%", "generate tuned merged bfloat16"} <= \
        {event.stage for event in events}
    stored = json.loads(db["runs"].get(summary["eval_run_id"])["recipe"])
    assert stored["compare"] == "base,compressed"  # the run can be replayed as it was asked

    columns, rows = side_metric_rows(summary)
    assert columns == names and rows[0]["metric"] == "perplexity"
    assert set(rows[0]["verdicts"]) == {"tuned", "tuned pruned 30%", "tuned merged bfloat16"}
    table = format_side_table(summary)
    assert "tuned pruned 30%" in table and "compressed against tuned" in table


def test_one_variant_by_run_id_or_label(with_variants):
    db, run_id, variants = (with_variants[k] for k in ("db", "run_id", "variants"))
    assert check_compare(db, run_id, str(variants["pruned 30%"])) == ["tuned pruned 30%"]
    assert check_compare(db, run_id, "base,Merged bfloat16") == ["tuned merged bfloat16"]
    assert check_compare(db, run_id, "base") == []


def test_unknown_variants_are_refused_before_any_work(with_variants):
    db, run_id = with_variants["db"], with_variants["run_id"]
    runs_before = db["runs"].count
    recipe = EvalRecipe(run_id=run_id, compare="base,8-bit")
    with pytest.raises(ValueError, match=r"no compressed variant '8-bit'; its variants: "
                                         r"\d+ \(pruned 30%\), \d+ \(merged bfloat16\)"):
        run_evaluation(db, with_variants["project_id"], recipe, Reporter())
    assert db["runs"].count == runs_before


def test_cli_refuses_a_missing_variant_before_a_job(workspace_project, capsys):
    code = main(["eval", str(workspace_project["run_id"]), "--compare", "base,compressed",
                 "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and "has no compressed variant yet; compress it first with " \
        f"`enclave compress {workspace_project['run_id']}" in out["error"]
    assert workspace_project["db"]["jobs"].count == 0
