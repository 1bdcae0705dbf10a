"""`enclave train …`: start, resume and search training runs; estimate memory; multi-GPU config.

Every setting is checked (recipe values, the model's sequence limit, QLoRA support, memory)
before a job starts; a bad one ends the command with a message naming the setting.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.cli.errors import CommandError
from engine.cli.jobs import job_outcome
from engine.cli.parser import add_command as add
from engine.cli.parser import flag_value, set_values
from engine.cli.preflight import preflight_or_error
from engine.cli.workspace import find_project, open_workspace
from engine.store import audit, runs
from engine.train.cluster import opening_message
from engine.train.job import find_dataset
from engine.train.launch import LaunchPlan, check_plan, join, join_plan
from engine.train.multi_gpu import PRECISIONS as GPU_PRECISIONS
from engine.train.multi_gpu import STRATEGIES, write_accelerate_config
from engine.train.recipe import DEFAULT_LEARNING_RATE, METHODS, TASKS, TrainRecipe, load_toml
from engine.train.search import load_space, rank_trials, trial_overrides

_OVERRIDES = ("learning_rate", "epochs", "max_steps", "batch_size", "grad_accum", "max_length",
              "rank", "optimizer", "scheduler", "seed", "eval_fraction", "checkpoint_every",
              "reweight_by")


def register(sub) -> None:
    """Training commands."""
    recipe_flags = [((f"--{name.replace('_', '-')}",), {"dest": name, "default": None,
                                                         "help": f"recipe field {name}"})
                    for name in _OVERRIDES]
    add(sub, "train", "fine-tune a model on a project's dataset (LoRA, QLoRA or full), or "
        "preference-tune it on expert preference pairs (DPO)", train,
        (("project",), {"help": "project name or id"}),
        (("--recipe",), {"help": "recipe TOML file ([train] table; base, dataset keys)"}),
        (("--base",), {"help": "base model: smollm2, minilm or a local model folder"}),
        (("--method",), {"choices": [*METHODS, "dpo"]}),
        (("--from-run",), {"type": int, "help": "dpo: the training run whose tuned model to "
                                                "start from (instead of --base)"}),
        (("--pairs",), {"help": "dpo: a JSONL file of prompt/chosen/rejected pairs, or a stored "
                                "pairs dataset (default: the pairs of the project's reviews)"}),
        (("--beta",), {"default": None, "help": "dpo: recipe field beta"}),
        (("--task",), {"choices": list(TASKS)}),
        (("--dataset",), {"help": "dataset name or id (default: the newest)"}),
        (("--set",), {"action": "append", "default": [], "metavar": "FIELD=VALUE",
                      "help": "any other recipe field, e.g. --set use_dora=true"}),
        (("--check",), {"action": "store_true", "help": "check and estimate memory only"}),
        *recipe_flags, *_launch_flags())
    add(sub, "train-resume", "resume a training run from its newest complete checkpoint",
        train_resume, (("run",), {"type": int, "help": "run id"}))
    add(sub, "train-search", "grid or random search over recipe fields; each trial is a run",
        train_search, (("project",), {}), (("--space",), {"required": True,
                                                          "help": "search space TOML file"}))
    add(sub, "train-runs", "compare a project's training runs", train_runs, (("project",), {}))
    add(sub, "train-accelerate-config", "write an accelerate launch config for several GPUs",
        accelerate_config, (("out",), {"help": "YAML file to write"}),
        (("--gpus",), {"type": int, "default": 2, "help": "GPUs per machine"}),
        (("--strategy",), {"choices": list(STRATEGIES), "default": "ddp"}),
        (("--precision",), {"choices": list(GPU_PRECISIONS), "default": "bf16"}),
        (("--machines",), {"type": int, "default": 1}),
        (("--machine-rank",), {"type": int, "default": 0}),
        (("--main-address",), {"default": ""}),
        (("--main-port",), {"type": int, "default": 29500}))
    add(sub, "train-join", "on machine K of a cluster: run its share of a training run that "
        "machine 0 started (the run folder must be shared)", train_join,
        (("spec",), {"help": "the run's launch/spec.json, as printed by machine 0"}),
        (("--machine-rank",), {"type": int, "required": True}),
        (("--allow-cluster",), {"required": True, "metavar": "ADDRESSES",
                                "help": "the cluster's machines, exactly as machine 0 named "
                                        "them (comma-separated private addresses)"}))


def _launch_flags() -> list:
    return [
        (("--gpus",), {"type": int, "default": None, "help": "processes on this machine, one "
                       "per GPU (on a machine without GPUs: CPU processes)"}),
        (("--strategy",), {"choices": list(STRATEGIES), "default": None,
                           "help": "ddp (default) or fsdp (full tuning, sharded weights)"}),
        (("--machines",), {"type": int, "default": None, "help": "machines in the cluster"}),
        (("--machine-rank",), {"type": int, "default": None, "help": "this machine's rank"}),
        (("--main-address",), {"default": None, "help": "address of machine 0"}),
        (("--main-port",), {"type": int, "default": None, "help": "port machine 0 listens on"}),
        (("--allow-cluster",), {"default": None, "metavar": "ADDRESSES",
                                "help": "several machines only: their private addresses, "
                                        "comma-separated (machine 0 first); the job's network "
                                        "walls admit these and loopback, nothing else"}),
        (("--accelerate-config",), {"default": None, "dest": "config_file",
                                    "help": "accelerate config (train-accelerate-config)"})]


def launch_from_args(args: argparse.Namespace, method: str) -> dict | None:
    """The launch plan of --gpus/--machines/... as stored job params (None: one process).

    Raises:
        CommandError: naming the flag with a bad value.
    """

    names = {"gpus": "processes", "strategy": "strategy", "machines": "machines",
             "machine_rank": "machine_rank", "main_address": "main_address",
             "main_port": "main_port", "config_file": "config_file",
             "allow_cluster": "allow_cluster"}
    values = {field: getattr(args, flag) for flag, field in names.items()
              if getattr(args, flag, None) is not None}
    try:
        plan = LaunchPlan.from_dict(values)
        check_plan(plan, method)
    except ValueError as exc:
        raise CommandError(f"--gpus/--machines/--allow-cluster: {exc}") from exc
    return plan.to_dict() if plan.distributed else None



def recipe_from_args(args: argparse.Namespace) -> tuple[Any, str, str | None]:
    """The recipe, base and dataset from --recipe and/or flags.

    Raises:
        CommandError: naming the file or flag with a bad value.
    """

    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    try:
        if args.recipe:
            recipe, extra = load_toml(args.recipe)
            values = recipe.to_dict()
        elif not args.base:
            raise CommandError("give --recipe FILE, or --base MODEL with --method")
        values.update(set_values(args.set))
        for name in _OVERRIDES:
            if getattr(args, name) is not None:
                values[name] = flag_value(getattr(args, name))
        if args.method:
            values["method"] = args.method
            if args.learning_rate is None and not args.recipe:
                values["learning_rate"] = DEFAULT_LEARNING_RATE[args.method]
        if args.task:
            values["task"] = args.task
        recipe = TrainRecipe.from_dict(values, where=args.recipe or "command line")
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    base = args.base or extra.get("base")
    if not base:
        raise CommandError(f"{args.recipe}: name the base model (base = \"smollm2\" or a "
                           "folder) or pass --base")
    return recipe, str(base), args.dataset or extra.get("dataset")


def train(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project_id = find_project(db, args.project)["id"]
    if args.method == "dpo":
        from engine.cli.dpo import train_dpo

        return train_dpo(args, project_id, db)
    recipe, base, dataset = recipe_from_args(args)
    launch = launch_from_args(args, recipe.method)
    report = preflight_or_error(base, recipe)
    try:
        dataset_row = find_dataset(db, project_id, dataset)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    estimate = report.estimate.to_dict()
    if args.check:
        return {"ok": True, "recipe": recipe.to_dict(), "memory_estimate": estimate}
    if not args.json:
        print(f"memory: {report.estimate.summary()}", file=sys.stderr)
    params = {"base": base, "dataset": dataset_row["id"], "recipe": recipe.to_dict()}
    if launch:
        params["launch"] = launch
    return _finish(job_outcome(params, project_id), args)


def _finish(result: dict, args: argparse.Namespace) -> dict:
    if result["state"] != "succeeded":
        raise CommandError(f"training job {result['job_id']} {result['state']}: "
                           f"{result.get('error') or ''} (resume with: enclave train-resume "
                           "RUN; see enclave train-runs PROJECT)".strip())
    if not args.json:
        print(f"run {result['run_id']}: {result['steps']} steps, loss {result['loss_start']:.4f}"
              f" → {result['loss_end']:.4f}; saved to {result['output']}")
    return {"ok": True, **result}


def train_resume(args: argparse.Namespace) -> dict:
    db = open_workspace()
    rows = list(db["runs"].rows_where("id = ? AND kind = 'train'", [args.run]))
    if not rows:
        raise CommandError(f"No training run {args.run}.")
    if json.loads(rows[0]["recipe"] or "{}").get("train", {}).get("method") == "dpo":
        raise CommandError(f"Run {args.run} is a DPO run; DPO runs are short and start again: "
                           "enclave train PROJECT --method dpo ...")
    if json.loads(rows[0]["summary"] or "{}").get("output"):
        raise CommandError(f"Run {args.run} already finished; start a new run with "
                           "init_adapter set to its output to train it further.")
    return _finish(job_outcome({"run_id": args.run}, rows[0]["project_id"]), args)


def train_search(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project_id = find_project(db, args.project)["id"]
    try:
        space = load_space(args.space)
        dataset_row = find_dataset(db, project_id, space.dataset)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    for recipe in space.recipes:
        preflight_or_error(space.base, recipe)
    results = []
    for index, (recipe, overrides) in enumerate(zip(space.recipes, trial_overrides(space))):
        print(f"trial {index + 1}/{len(space.recipes)}: {overrides} (Ctrl-C cancels this trial)",
              file=sys.stderr)
        params = {"base": space.base, "dataset": dataset_row["id"], "recipe": recipe.to_dict(),
                  "name": f"search trial {index + 1}"}
        outcome = job_outcome(params, project_id)
        results.append({"trial": index + 1, **overrides, **outcome})
    ranked = rank_trials(results, space.metric)
    if not args.json:
        _print_ranking(ranked, sorted(space.space), space.metric)
    return {"ok": True, "metric": space.metric, "trials": ranked}


def _print_ranking(ranked: list[dict], names: list[str], metric: str) -> None:
    header = ["rank", "trial", *names, metric, "state", "run"]
    print("  ".join(f"{h:>12}" for h in header))
    for row in ranked:
        value = row.get(metric, row.get("loss_end"))
        cells = [f"{row['rank']}{'*' if row['best'] else ''}", row["trial"],
                 *(row.get(n) for n in names), f"{value:.4f}" if value is not None else "-",
                 row["state"], row.get("run_id", "-")]
        print("  ".join(f"{c if not isinstance(c, float) else f'{c:.3g}':>12}" for c in cells))


def train_runs(args: argparse.Namespace) -> dict:

    db = open_workspace()
    rows = [r for r in runs.list_for_project(db, find_project(db, args.project)["id"])
            if r["kind"] == "train"]
    table = [{"run": r["id"], "name": r["name"], **json.loads(r["recipe"]).get("train", {}),
              **r["summary"]} for r in rows]
    if not args.json:
        for row in table:
            print(f"{row['run']:>4}  {row['name']:<28} {row.get('method', '?'):<6} "
                  f"lr={row.get('learning_rate', '?')} steps={row.get('steps', '-')} "
                  f"loss_end={row.get('loss_end', '-')} eval={row.get('eval_loss', '-')}")
    return {"ok": True, "runs": table}


def accelerate_config(args: argparse.Namespace) -> dict:

    try:
        path = write_accelerate_config(
            Path(args.out), args.gpus, args.strategy, args.precision,
            machines=args.machines, machine_rank=args.machine_rank,
            main_address=args.main_address, main_port=args.main_port)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"wrote {path}; use it with: accelerate launch --config_file {path} SCRIPT")
    return {"ok": True, "path": str(path)}


def train_join(args: argparse.Namespace) -> dict:

    try:
        plan = join_plan(Path(args.spec), args.machine_rank, args.allow_cluster)
        audit.record(open_workspace(), "network.cluster_opened", f"spec:{Path(args.spec)}",
                     addresses=plan.allow_cluster, machines=plan.machines,
                     machine_rank=plan.machine_rank, main_address=plan.main_address,
                     main_port=plan.main_port)
        print(opening_message(plan.allow_cluster), file=sys.stderr)
        code = join(Path(args.spec), plan)
    except (ValueError, RuntimeError) as exc:
        raise CommandError(str(exc)) from exc
    if code:
        raise CommandError(f"this machine's training processes ended with exit code {code}")
    return {"ok": True, "machine_rank": args.machine_rank}
