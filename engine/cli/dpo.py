"""`enclave train PROJECT --method dpo …` and `enclave train-pairs PROJECT`: preference tuning.

The pairs come from the project's reviews (A/B preferences, and corrected answers unless
``include_corrections = false``), from a stored pairs dataset, or from a JSONL file the user
brings (``--pairs FILE``: checked line by line, then stored as a dataset version). Every
setting and the number of pairs are checked before a job starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.cli.errors import CommandError
from engine.cli.jobs import job_outcome
from engine.cli.parser import add_command as add
from engine.cli.parser import flag_value, set_values
from engine.cli.preflight import preflight_or_error
from engine.cli.workspace import find_project, open_workspace
from engine.train import preferences
from engine.train.dpo_job import start_point
from engine.train.dpo_recipe import DpoRecipe, load_toml

# Flags of `enclave train` that are DPO recipe fields too.
_SHARED_FLAGS = ("learning_rate", "epochs", "max_steps", "batch_size", "grad_accum",
                 "max_length", "rank", "scheduler", "seed")
_SFT_ONLY_FLAGS = ("optimizer", "eval_fraction", "checkpoint_every", "task")


def register(sub) -> None:
    """The `train-pairs` command (DPO runs start from `enclave train --method dpo`)."""
    add(sub, "train-pairs", "preference pairs for DPO: count them, export them as JSONL, or "
        "import a JSONL pairs file (prompt, chosen, rejected) as a dataset version",
        train_pairs, (("project",), {"help": "project name or id"}),
        (("--export",), {"metavar": "FILE", "help": "write the reviews' pairs to a JSONL file"}),
        (("--import",), {"dest": "import_file", "metavar": "FILE",
                         "help": "check a JSONL pairs file and store it as a dataset version"}),
        (("--no-corrections",), {"action": "store_true",
                                 "help": "leave corrected answers out of the pairs"}))



def dpo_recipe_from_args(args: argparse.Namespace) -> tuple[Any, dict]:
    """The DPO recipe from --recipe, --set and the shared flags, and the file's other keys.

    Raises:
        CommandError: naming the file or flag with a bad value.
    """

    for name in _SFT_ONLY_FLAGS:
        if getattr(args, name, None) is not None:
            raise CommandError(f"--{name.replace('_', '-')} does not apply to --method dpo")
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    try:
        if args.recipe:
            recipe, extra = load_toml(args.recipe)
            values = recipe.to_dict()
        values.update(set_values(args.set))
        for name in (*_SHARED_FLAGS, "beta"):
            if getattr(args, name, None) is not None:
                values[name] = flag_value(str(getattr(args, name)))
        return DpoRecipe.from_dict(values, where=args.recipe or "command line"), extra
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def _pairs_dataset(db, project_id: int, pairs: str | None, recipe: Any,
                   store: bool = True) -> tuple[int | None, int]:
    """The pairs dataset to train on and its pair count, checked against ``min_pairs``.

    A file is read and checked first, and stored as a dataset version only when it is
    usable (and ``store``); a stored pairs dataset is named or numbered; ``None`` means the
    reviews' pairs.
    """

    try:
        if not pairs:
            found = preferences.stored_pairs(db, project_id, recipe.include_corrections)
            preferences.require_pairs(found, recipe.min_pairs,
                                      f"the reviews of project {project_id}")
            return None, len(found)
        path = Path(pairs).expanduser()
        if path.is_file():
            found = preferences.read_pairs_file(path)
            preferences.require_pairs(found, recipe.min_pairs, str(path))
            if not store:
                return None, len(found)
            return preferences.store_pairs(db, project_id, found,
                                           {"source": "file", "file": str(path)}), len(found)
        for row in preferences.pair_datasets(db, project_id):
            if pairs in (str(row["id"]), row["name"]):
                found = preferences.dataset_pairs(db, row["id"])
                preferences.require_pairs(found, recipe.min_pairs, f"dataset {row['id']}")
                return int(row["id"]), len(found)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    raise CommandError(f"--pairs {pairs!r}: no such file, nor a preference-pairs dataset of "
                       "this project (see enclave train-pairs PROJECT)")


def train_dpo(args: argparse.Namespace, project_id: int, db) -> dict:
    """`enclave train PROJECT --method dpo [--from-run RUN | --base MODEL] [--pairs FILE]`."""

    recipe, extra = dpo_recipe_from_args(args)
    from_run = args.from_run if args.from_run is not None else extra.get("from_run")
    base = args.base or extra.get("base")
    if from_run is not None and base:
        raise CommandError("give --base or --from-run, not both (a run brings its own base)")
    try:
        start = start_point(db, project_id, base, from_run)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    report = preflight_or_error(str(start.base_folder), recipe.as_train_recipe())
    dataset_id, count = _pairs_dataset(db, project_id, args.pairs or extra.get("pairs"), recipe,
                                       store=not args.check)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.check:
        return {"ok": True, "method": "dpo", "pairs": count, "recipe": recipe.to_dict(),
                "memory_estimate": report.estimate.to_dict()}
    if not args.json:
        print(f"{count} preference pairs; memory: {report.estimate.summary()}", file=sys.stderr)
    params = {"recipe": recipe.to_dict(), "base": start.base, "from_run": start.from_run,
              "pairs_dataset": dataset_id}
    result = job_outcome(params, project_id, kind="train.dpo")
    if result["state"] != "succeeded":
        raise CommandError(f"DPO job {result['job_id']} {result['state']}: "
                           f"{result.get('error') or ''}".strip())
    if not args.json:
        print(f"run {result['run_id']}: DPO {result['steps']} steps on {result['pairs']} pairs, "
              f"loss {result['loss_start']:.4f} → {result['loss_end']:.4f}, reward accuracy "
              f"{result['reward_accuracy']:.2f}, margin {result['reward_margin']:.4f}; "
              f"saved to {result['output']}")
    return {"ok": True, **result}


def train_pairs(args: argparse.Namespace) -> dict:
    """`enclave train-pairs PROJECT [--export FILE] [--import FILE] [--no-corrections]`."""

    db = open_workspace()
    project_id = find_project(db, args.project)["id"]
    out: dict[str, Any] = {"ok": True, "project_id": project_id}
    if args.import_file:
        try:
            dataset_id = preferences.import_pairs(db, project_id, args.import_file)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        out["imported_dataset"] = dataset_id
        out["imported_pairs"] = db["datasets"].get(dataset_id)["record_count"]
    counts = preferences.count_stored_pairs(db, project_id)
    out["from_reviews"] = counts
    out["datasets"] = [{"id": r["id"], "name": r["name"], "version": r["version"],
                        "pairs": r["record_count"]}
                       for r in preferences.pair_datasets(db, project_id)]
    if args.export:
        pairs = preferences.stored_pairs(db, project_id, not args.no_corrections)
        if not pairs:
            raise CommandError(f"No preference pairs in the reviews of project {project_id}. "
                               + preferences.HOW_TO_GET_PAIRS)
        out["exported"] = str(preferences.write_pairs_file(pairs, args.export))
        out["exported_pairs"] = len(pairs)
    if not args.json:
        _print_pairs(out)
    return out


def _print_pairs(out: dict) -> None:
    counts = out["from_reviews"]
    print(f"from reviews: {counts['total']} pairs ({counts['preferences']} A/B preferences, "
          f"{counts['corrections']} corrections)")
    for row in out["datasets"]:
        print(f"dataset {row['id']}: {row['name']} v{row['version']} ({row['pairs']} pairs)")
    if "imported_dataset" in out:
        print(f"imported {out['imported_pairs']} pairs as dataset {out['imported_dataset']}",
              file=sys.stderr)
    if "exported" in out:
        print(f"wrote {out['exported_pairs']} pairs to {out['exported']}", file=sys.stderr)
