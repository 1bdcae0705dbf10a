"""`enclave select`: pick a coreset of a project's dataset as a job, print coverage."""

from __future__ import annotations

import argparse

from engine.cli.errors import CommandError
from engine.cli.jobs import run_job
from engine.cli.parser import add_command as add
from engine.cli.parser import recipe_option
from engine.cli.workspace import find_project, open_workspace
from engine.select.methods import AUTO, AUTO_DESCRIPTION, METHOD_NAMES, RECIPE_METHODS, get_method
from engine.select.recipe import RecipeError, SelectionRecipe
from engine.select.recipe import SelectionRecipe as R


def register(sub) -> None:
    """Add ``select`` and ``select-methods``."""

    add(sub, "select", "select a coreset of a project's dataset (a new dataset version)",
        select, (("project",), {"help": "project name"}),
        (("--method",), {"default": "auto", "choices": RECIPE_METHODS,
                         "help": f"auto: {AUTO_DESCRIPTION}"}),
        (("--budget",), {"default": "10%",
                         "help": "rows (200) or percentage (5%%, down to 0.5%%)"}),
        (("--seed",), {"type": int, "default": 0}),
        (("--dataset",), {"help": "dataset name (default: newest non-test, non-selection)"}),
        (("--k",), {"type": int, "help": "clusters (default: one per selected row)"}),
        (("--allocation",), recipe_option(R, "allocation")),
        (("--embedding",), recipe_option(R, "embedding")),
        (("--precision",), recipe_option(R, "precision")),
        (("--dedup",), {"type": float, "default": 0.0,
                        "help": "drop near duplicates at this cosine first (0 = off)"}),
        (("--quality-score",), recipe_option(R, "quality_score")))
    add(sub, "select-methods", "list the coreset selection methods", methods_list)


def _recipe(args: argparse.Namespace):
    try:
        return SelectionRecipe(method=args.method, budget=args.budget, seed=args.seed, k=args.k,
                               allocation=args.allocation, embedding=args.embedding,
                               precision=args.precision,
                               dedup=args.dedup, quality_score=args.quality_score)
    except RecipeError as exc:
        raise CommandError(str(exc)) from exc


def select(args: argparse.Namespace) -> dict:
    recipe = _recipe(args)
    project = find_project(open_workspace(), args.project)
    params = {"recipe": recipe.to_dict(), "dataset": args.dataset}
    job_id, summary = run_job("select", params, project["id"], quiet=args.json)
    if not args.json:
        _print_summary(summary)
    return {"ok": True, "job_id": job_id, **summary}


def _print_summary(s: dict) -> None:
    m = s["metrics"]
    print(f"selected {s['budget']} of {s['rows']} rows from '{s['parent_name']}' "
          f"with {s['method']} (seed {s['seed']}) → dataset {s['dataset_id']}")
    print(f"  embeddings: {s['embedded']} computed, {s['cached']} from the cache "
          f"({s['embedding']})")
    groups = m["reference_clusters"]
    print(f"  coverage: picks in {round(m['clusters_hit'] * groups)} of {groups} reference "
          f"groups (a separate k-means of all rows), k-center radius {m['kcenter_radius']}, "
          f"quantisation error {m['quantisation_error']}")
    if m.get("labels"):
        print(f"  labels: total variation subset vs all {m['labels']['total_variation']}, "
              f"missing: {', '.join(m['labels']['labels_missing']) or 'none'}")


def methods_list(args: argparse.Namespace) -> dict:
    rows = [{"name": AUTO, "description": AUTO_DESCRIPTION, "needs_labels": False}]
    rows += [{"name": n, "description": get_method(n).description,
              "needs_labels": get_method(n).needs_labels} for n in METHOD_NAMES]
    if not args.json:
        for row in rows:
            print(f"  {row['name']:<20} {row['description']}")
    return {"methods": rows}
