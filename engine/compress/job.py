"""Compression and export as stages: a run in, a new run with artifacts and a comparison out.

``compress`` job params: ``{"run_id": int, "recipe": {...CompressRecipe fields}}``.
``export`` job params: ``{"run_id": int, "format": "safetensors"|"gguf", "out": str,
"dtype": str, "gguf_type": str}``.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlite_utils

from engine import paths
from engine.compress.card import model_card
from engine.compress.checksums import verify_export
from engine.compress.classifier_runs import (
    check_classifier_request,
    compress_classifier,
    is_classifier_source,
    merge_classifier_adapter,
)
from engine.compress.distill import distill_to_folder
from engine.compress.export import check_export, export_model
from engine.compress.measure import measure_variant
from engine.compress.merge import merge_adapter
from engine.compress.recipe import CompressRecipe, CompressRequestError, check_request
from engine.compress.sources import project_records
from engine.jobs.registry import JobContext
from engine.models.run_models import RunSource, run_source
from engine.progress import Reporter
from engine.store import audit, runs

VARIANT_NAMES = {"quantize-8bit": "8-bit", "quantize-4bit": "4-bit", "merge": "merged",
                 "prune": "pruned", "distill": "distilled", "gguf": "gguf"}


def _variant_label(recipe: CompressRecipe, figures: dict) -> str:
    label = VARIANT_NAMES[recipe.method]
    if recipe.method == "distill":
        return f"distilled {figures['student_layers']}-layer"
    if recipe.method == "quantize-4bit":
        return f"4-bit {recipe.quant_type}"
    if recipe.method == "prune":
        return f"pruned {recipe.sparsity:.0%}{' structured' if recipe.structured else ''}"
    if recipe.method == "gguf":
        return f"gguf {recipe.gguf_type}"
    if recipe.method == "merge":
        return f"merged {recipe.dtype}"
    return label


def prepare_request(db: sqlite_utils.Database, run_id: int,
                    recipe: CompressRecipe) -> RunSource:
    """Resolve the run's model and check the request, before any work.

    Raises:
        CompressRequestError: saying what is wrong.
    """

    source = run_source(db, run_id)
    if is_classifier_source(source):
        check_classifier_request(db, source, recipe)
    elif recipe.method == "merge":
        if source.adapter is None or source.base is None:
            raise CompressRequestError(f"run {run_id} has no LoRA adapter with a base model "
                                       "on disk; nothing to merge")
        check_request(recipe, source.base)
    else:
        check_request(recipe, source.model or source.base)
    return source


def _full_model(source: RunSource, workdir: Path, reporter: Reporter) -> Path:
    """The run's full-precision model, merging its adapter first when needed."""

    if source.model is not None:
        return source.model
    if is_classifier_source(source):
        return merge_classifier_adapter(source.base, source.adapter, workdir / "merged",
                                        reporter.for_stage("merge"))
    return merge_adapter(source.base, source.adapter, workdir / "merged",
                         reporter.for_stage("merge"))


def _produce(recipe: CompressRecipe, source: RunSource, model: Path, workdir: Path,
             db: sqlite_utils.Database, reporter: Reporter) -> tuple[Path, dict]:
    """Run the method; returns the variant's path and method-specific figures."""
    step = reporter.for_stage("compress")
    out = workdir / "model"
    if recipe.method.startswith("quantize-"):
        from engine.compress.quantize import quantize_to_folder
        return quantize_to_folder(model, out, recipe, step), {}
    if recipe.method == "merge":
        from engine.compress.export import export_model
        return export_model(model, out, "safetensors", dtype=recipe.dtype, reporter=step), {}
    if recipe.method == "gguf":
        from engine.compress.gguf_export import export_gguf
        out.mkdir(parents=True, exist_ok=True)
        return export_gguf(model, out / f"model-{recipe.gguf_type}.gguf",
                           recipe.gguf_type, step), {}
    if recipe.method == "prune":
        from engine.compress.prune import prune_to_folder
        result = prune_to_folder(model, out, recipe.sparsity, recipe.structured, step)
        return out, {"sparsity_reached": round(result.sparsity, 4),
                     "parameters_before": result.parameters_before,
                     "parameters_after": result.parameters_after}
    records = project_records(db, source.run, "train", 10_000)
    if not records:
        raise CompressRequestError("distillation needs the project's training records; "
                                   "the project has no dataset")
    result = distill_to_folder(model, records, out, recipe, step)
    return out, {"student_layers": result.student_layers, "teacher_layers":
                 result.teacher_layers, "distill_loss_start": round(result.losses[0], 4),
                 "distill_loss_end": round(result.losses[-1], 4)}


def _measure_all(source: RunSource, model: Path, variant: Path, label: str,
                 recipe: CompressRecipe, records: list[dict], reporter: Reporter) -> list[dict]:

    step = reporter.for_stage("measure")
    rows = []
    if source.adapter is not None and source.base is not None:
        rows.append(measure_variant("base", source.base, records,
                                    max_length=recipe.max_length, reporter=step))
    rows.append(measure_variant("tuned fp32", model, records, max_length=recipe.max_length,
                                reporter=step))
    dtype = recipe.dtype if recipe.method == "merge" else "float32"
    rows.append(measure_variant(label, variant, records, max_length=recipe.max_length,
                                reporter=step, with_sparsity=recipe.method == "prune",
                                dtype=dtype))
    return [row.to_dict() for row in rows]


def _compress_causal(db: sqlite_utils.Database, source: RunSource, recipe: CompressRecipe,
                     workdir: Path, reporter: Reporter) -> dict:
    """Compress a causal LM run and measure base, tuned and the variant."""
    model = _full_model(source, workdir, reporter)
    variant, figures = _produce(recipe, source, model, workdir, db, reporter)
    reporter.check_cancel()
    label = _variant_label(recipe, figures)
    records = project_records(db, source.run, "test", recipe.eval_records)
    rows = _measure_all(source, model, variant, label, recipe, records, reporter)
    return {"path": variant, "label": label, "figures": figures, "variants": rows,
            "eval_records": len(records)}


def run_compress(db: sqlite_utils.Database, run_id: int, recipe: CompressRecipe,
                 reporter: Reporter, job_id: int | None = None) -> dict:
    """Compress a run's model, measure it beside the original and store the result.

    Args:
        db: the workspace store.
        run_id: the run whose model is compressed (a training or compression run).
        recipe: the method and its options.
        reporter: progress events; cancel is honoured between steps.
        job_id: the job running this, recorded on the new run.

    Returns:
        The new run's summary: method, figures and the comparison rows.

    Raises:
        CompressRequestError: for a refused request (nothing is written then).
    """

    source = prepare_request(db, run_id, recipe)
    project_id = source.run["project_id"]
    started = time.time()
    workdir = paths.project_dir(project_id) / f"compress-{run_id}-{recipe.method}-" \
                                              f"{job_id or int(started)}"
    if is_classifier_source(source):
        done = compress_classifier(db, source, recipe, workdir, reporter)
    else:
        done = _compress_causal(db, source, recipe, workdir, reporter)
    variant, label, rows = done["path"], done["label"], done["variants"]
    new_run = runs.create(db, project_id, "compress", f"{label} of run {run_id}",
                          {**recipe.to_dict(), "source_run_id": run_id}, job_id)
    runs.add_artifact(db, project_id, "compressed-model", variant, new_run,
                      method=recipe.method, label=label)
    summary = {"method": recipe.method, "label": label, "source_run_id": run_id,
               "run_id": new_run, "path": str(variant), "eval_records": done["eval_records"],
               **done["figures"], "variants": rows, "wall_s": round(time.time() - started, 1)}
    runs.set_summary(db, new_run, summary)
    audit.record(db, "model.compress", f"run:{new_run}", method=recipe.method,
                 source_run=run_id, path=str(variant))
    return summary


def run_export(db: sqlite_utils.Database, run_id: int, fmt: str, out: Path, *,
               dtype: str = "float32", gguf_type: str = "f16",
               reporter: Reporter) -> dict:
    """Export a run's model with a model card and checksums; record it in the store.

    A run that holds only an adapter is merged into its base on the way (in a
    temporary folder that is removed afterwards).

    Raises:
        CompressRequestError: for a refused request (before any work).
    """
    import tempfile


    source = run_source(db, run_id)
    out = Path(out)
    if source.model is not None:
        check_export(source.model, fmt, out, dtype, gguf_type)
        return _export_folder(db, source, source.model, fmt, out, dtype, gguf_type, reporter)
    check_export(source.base, fmt, out, dtype, gguf_type)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}-merge-", dir=out.parent) as tmp:
        merged = _full_model(source, Path(tmp), reporter)
        return _export_folder(db, source, merged, fmt, out, dtype, gguf_type, reporter)


def _export_folder(db: sqlite_utils.Database, source: RunSource, folder: Path, fmt: str,
                   out: Path, dtype: str, gguf_type: str, reporter: Reporter) -> dict:

    run = source.run
    kind = f"gguf {gguf_type}" if fmt == "gguf" else f"safetensors {dtype}"
    card = model_card(db, run, folder, source.base, kind)
    export_model(folder, out, fmt, dtype=dtype, gguf_type=gguf_type, card=card,
                 reporter=reporter.for_stage("export"))
    check = verify_export(out)
    runs.add_artifact(db, run["project_id"], "export", out, run["id"], format=fmt, type=kind)
    audit.record(db, "model.export", f"run:{run['id']}", format=kind, path=str(out),
                 files=check.files)
    return {"run_id": run["id"], "format": fmt, "type": kind, "path": str(out),
            "files": check.files, "verified": check.ok}


def compress_job(ctx: JobContext) -> dict:
    """Job entry point of kind ``compress``."""
    recipe = CompressRecipe.from_dict(ctx.params.get("recipe", {}))
    return run_compress(ctx.db, int(ctx.params["run_id"]), recipe, ctx.reporter, ctx.job_id)


def export_job(ctx: JobContext) -> dict:
    """Job entry point of kind ``export``."""
    params = ctx.params
    return run_export(ctx.db, int(params["run_id"]), params["format"], Path(params["out"]),
                      dtype=params.get("dtype", "float32"),
                      gguf_type=params.get("gguf_type", "f16"), reporter=ctx.reporter)
