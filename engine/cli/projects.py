"""What each `enclave` command does; printing for people lives here too."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from engine import paths
from engine.cli.errors import CommandError
from engine.cli.jobs import run_job
from engine.cli.parser import add_command as add
from engine.cli.workspace import find_project, open_workspace
from engine.data.demo_clinical import write_clinical
from engine.data.demo_legal import write_legal
from engine.data.phi.policy import DEFAULT_POLICY, POLICIES
from engine.data.records import TASK_FIELDS
from engine.data.redaction_policy import set_project_policy
from engine.demo.pipeline import ensure_project
from engine.jobs.runner import JobRunner
from engine.models.device import detect
from engine.models.registry import ModelRefused, bundled_models, import_local
from engine.store import jobs, projects


def register(sub) -> None:
    """The foundation's commands: window, demo, projects, jobs, models, demo data."""
    add(sub, "gui", "open the desktop window", gui)
    add(sub, "demo", "run the whole pipeline on the bundled models and demo data", demo,
        (("--quick",), {"action": "store_true", "help": "tiny run (about two minutes)"}),
        (("--project",), {"help": "project name (default: a new 'Demo' project)"}))
    add(sub, "projects", "list projects", projects_list)
    add(sub, "create-project", "create a project", projects_create, (("name",), {}),
        (("--task",), {"default": "instruction",
                       "choices": list(TASK_FIELDS)}),
        (("--redaction-policy",), {"default": DEFAULT_POLICY, "choices": list(POLICIES),
                                   "help": "which identifiers cleaning replaces: clinical "
                                           "(HIPAA Safe Harbor), legal (parties, addresses, "
                                           "case and account numbers), general (direct "
                                           "identifiers only) or off (default: clinical)"}))
    add(sub, "delete-project", "delete a project and everything it owns", projects_delete,
        (("name",), {}))
    add(sub, "jobs", "list jobs with state and progress", jobs_list,
        (("--project",), {"help": "only this project's jobs"}))
    add(sub, "models", "list the bundled models and the device", models_list)
    add(sub, "check-model", "validate a local model folder before import", models_check,
        (("folder",), {}))
    add(sub, "generate-demo-data", "write the seeded demo exports (clinical, legal)",
        generate_demo_data, (("folder",), {}), (("--seed",), {"type": int, "default": 0}))


def gui(args: argparse.Namespace) -> int:
    """Open the window. The front end is looked up by name only when asked for, so that the
    engine never depends on it (and runs where PySide6 is not installed)."""
    try:
        window = importlib.import_module("gui.app")
    except ImportError as exc:
        raise CommandError(f"The desktop window cannot start: {exc}. Reinstall Enclave "
                           "with its window (PySide6).") from exc
    return window.main(sys.argv[:1])


def demo(args: argparse.Namespace) -> dict | int:

    db = open_workspace()
    project = projects.find(db, args.project) if args.project else None
    if args.project and project is None:
        projects.create(db, args.project, "Clinical instruction demo")
        project = projects.find(db, args.project)
    project_id = ensure_project(db, project["id"] if project else None)
    job_id, summary = run_job("demo", {"quick": args.quick}, project_id)
    if not args.json:
        _print_summary(summary)
    return {"ok": True, "job_id": job_id, **summary}


def _print_summary(s: dict) -> None:
    print(f"""
Enclave demo — project {s['project_id']}
  records: {s['records_in']} lines in, {s['records_valid']} valid, {s['records_quarantined']} quarantined,
           {s['records_after_clean']} after cleaning ({s['train_records']} train / {s['test_records']} test)
  coreset: {s['selected']} records selected by k-means (MiniLM, mean pooling, L2)
  LoRA:    {s['train_steps']} steps in {s['train_seconds']} s, loss {s['loss_start']} → {s['loss_end']}
  perplexity (held out): base {s['ppl_base']} → tuned {s['ppl_tuned']} → tuned 8-bit {s['ppl_tuned_8bit']}
  size in memory: base {s['size_base_mb']} MB, tuned {s['size_tuned_mb']} MB, 8-bit {s['size_tuned_8bit_mb']} MB
  wall time: {s['wall_s']} s""")


def projects_list(args: argparse.Namespace) -> dict | int:
    rows = projects.list_all(open_workspace())
    if not args.json:
        for row in rows:
            print(f"{row['id']:>4}  {row['name']}  ({row['task']}, created {row['created_at']})")
    return {"projects": rows}


def projects_create(args: argparse.Namespace) -> dict:
    db = open_workspace()
    try:
        project_id = projects.create(db, args.name, task=args.task)
    except projects.ProjectError as exc:
        raise CommandError(str(exc)) from exc
    set_project_policy(db, project_id, args.redaction_policy)
    if not args.json:
        print(f"created project {project_id}: {args.name} (redaction policy "
              f"{args.redaction_policy})")
    return {"ok": True, "project_id": project_id, "redaction_policy": args.redaction_policy}


def projects_delete(args: argparse.Namespace) -> dict:
    db = open_workspace()
    project = find_project(db, args.name)
    try:
        projects.delete(db, project["id"])
    except projects.ProjectError as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"deleted project {project['id']}: {args.name}")
    return {"ok": True, "project_id": project["id"]}


def jobs_list(args: argparse.Namespace) -> dict:
    db = open_workspace()
    JobRunner(paths.workspace_db())  # marks stale running jobs interrupted
    project = find_project(db, args.project) if args.project else None
    rows = jobs.list_for_project(db, project["id"]) if project else jobs.list_all(db)
    if not args.json:
        for r in rows:
            print(f"{r['id']:>4}  {r['kind']:<16} {r['state']:<11} {r['stage'] or '':<9} "
                  f"{r['step'] or 0}/{r['total'] or 0}  {r['error'] or r['message'] or ''}")
    return {"jobs": rows}


def models_list(args: argparse.Namespace) -> dict:
    from dataclasses import asdict

    models = [asdict(m) for m in bundled_models()]
    device = asdict(detect())
    if not args.json:
        print(f"device: {device['kind']} ({device['name']})")
        for m in models:
            print(f"  {m['name']:<28} {m['kind']:<8} {m['folder']}")
    return {"device": device, "models": models}


def models_check(args: argparse.Namespace) -> dict:
    from dataclasses import asdict

    try:
        info = import_local(Path(args.folder))
    except ModelRefused as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"accepted: {info.name} ({info.architecture}, {info.kind}, "
              f"{info.parameters:,} parameters)")
    return {"ok": True, "model": asdict(info)}


def generate_demo_data(args: argparse.Namespace) -> dict:
    from dataclasses import asdict

    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    stats = {"clinical": asdict(write_clinical(folder / "clinical.jsonl", seed=args.seed)),
             "legal": asdict(write_legal(folder / "legal_clauses.jsonl", seed=args.seed))}
    if not args.json:
        print(f"wrote {folder / 'clinical.jsonl'} and {folder / 'legal_clauses.jsonl'}")
    return {"ok": True, "folder": str(folder), "stats": stats}
