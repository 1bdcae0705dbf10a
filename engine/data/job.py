"""Job functions of the data stage: import a file, run a cleaning recipe."""

from __future__ import annotations

from pathlib import Path

from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.import_recipe import ImportRecipe
from engine.data.importer import import_file
from engine.jobs.registry import JobContext

RECIPE_PARAMS = ("format", "task", "mapping", "header", "sheet", "test_fraction", "seed")


def import_job(ctx: JobContext) -> dict:
    """Params: path, task, format, mapping, test_fraction, seed, name, header, sheet."""

    p = ctx.params
    recipe = ImportRecipe.from_dict({key: p.get(key) for key in RECIPE_PARAMS if key in p},
                                    where="import job")
    summary = import_file(ctx.db, ctx.project_id, Path(p["path"]), task=recipe.task,
                          fmt=recipe.format, mapping=recipe.mapping,
                          test_fraction=recipe.test_fraction, seed=recipe.seed,
                          name=p.get("name"), reporter=ctx.reporter.for_stage("import"),
                          job_id=ctx.job_id, header=recipe.header, sheet=recipe.sheet)
    return summary.to_dict()


def clean_job(ctx: JobContext) -> dict:
    """Params: recipe (dict of CleanRecipe fields), dataset_id (optional)."""

    recipe = CleanRecipe.from_dict(ctx.params.get("recipe") or {})
    outcome = run_clean(ctx.db, ctx.project_id, recipe, dataset_id=ctx.params.get("dataset_id"),
                        reporter=ctx.reporter.for_stage("clean"), job_id=ctx.job_id)
    report = outcome.report
    return {"train_id": outcome.train_id, "test_id": outcome.test_id, "run_id": outcome.run_id,
            "records_in": report["input"]["records"], "records_out": report["output"]["records"],
            "counts": report["counts"], "phi_counts": report["phi_counts"]}
