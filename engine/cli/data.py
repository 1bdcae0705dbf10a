"""`enclave data …`: import, preview, clean, report, quarantine export."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.cli.errors import CommandError
from engine.cli.jobs import run_job
from engine.cli.parser import add_command as add
from engine.cli.security import plant_canaries, purge_raw
from engine.cli.workspace import find_project, open_workspace
from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import CleanError, find_inputs
from engine.data.import_recipe import DEFAULT_TEST_FRACTION
from engine.data.importer import ImportSummary, preview_file
from engine.data.mapping import MappingError, check_mapping, column_heading
from engine.data.phi.policy import DESCRIPTIONS, POLICIES, PolicyError
from engine.data.privacy import display_redactor, redact_value
from engine.data.records import TASK_FIELDS, DataFormatError
from engine.data.redaction_policy import dry_run, project_policy, set_project_policy
from engine.data.report import write_html
from engine.data.split import check_test_fraction
from engine.store import runs
from engine.store.dataset_stream import quarantine_for_project


def register(sub) -> None:
    """Add the ``data`` command group with its own subcommands."""
    group = sub.add_parser("data", help="import and clean a project's data",
                           description="Import, clean and report on a project's data.")
    leaves = group.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    where = (("project",), {"help": "project name"})
    add(leaves, "import", "import a file (JSONL, JSON, CSV/TSV, Excel, Alpaca, chat, text, "
        "Parquet) or a folder of documents", data_import, where,
        (("file",), {"help": "the file, or a folder of .txt/.md/.docx/.pdf documents (one "
                             "record each; the sub-folder's name is the label)"}),
        (("--format",), {"help": "jsonl, json, csv, tsv, xlsx, text, text-files (documents), "
                                 "parquet, alpaca, sharegpt, chat (default: detected)"}),
        (("--header",), {"action": argparse.BooleanOptionalAction, "default": None,
                         "help": "the first row of a table names the columns (--header) or is "
                                 "data (--no-header: columns are numbered 1, 2, ...); "
                                 "default: told from the rows"}),
        (("--sheet",), {"metavar": "NAME", "help": "the Excel sheet to import (default: the "
                                                   "first)"}),
        (("--task",), {"choices": list(TASK_FIELDS),
                       "help": "default: the project's task"}),
        (("--map",), {"action": "append", "default": [], "metavar": "FIELD=COLUMN",
                      "help": "map a task field to a column by name or 1-based position "
                              "(--map text=5; repeatable; COLUMN may join columns with +)"}),
        (("--test-fraction",), {"type": _fraction, "default": DEFAULT_TEST_FRACTION,
                                "help": "held-out share, at least 0 (none) and below 1"}),
        (("--seed",), {"type": int, "default": 0}),
        (("--preview",), {"action": "store_true", "help": "show the mapping and first rows only"}))
    add(leaves, "clean", "run the cleaning recipe as a job (new dataset version)", data_clean,
        where, (("--recipe",), {"help": "TOML recipe file (default: the built-in recipe)"}),
        (("--set",), {"action": "append", "default": [], "metavar": "KEY=VALUE",
                      "help": "override one recipe field (repeatable)"}),
        (("--dataset",), {"type": int, "help": "dataset id to clean (default: newest train split)"}),
        (("--dry-run",), {"action": "store_true",
                          "help": "show per identifier type how many spans the project's "
                                  "redaction policy would replace, with a few redacted "
                                  "examples; nothing is cleaned"}))
    add(leaves, "policy", "show or change the project's redaction policy (before cleaning)",
        data_policy, where, (("policy",), {"nargs": "?", "choices": list(POLICIES),
                                           "help": "clinical, legal, general or off"}))
    add(leaves, "report", "write the quality report of the newest clean run", data_report, where,
        (("--html",), {"required": True, "metavar": "OUT", "help": "HTML file to write"}))
    add(leaves, "quarantine", "list or export the quarantined records", data_quarantine, where,
        (("--export",), {"metavar": "OUT", "help": "write them as JSON Lines"}))
    add(leaves, "purge-raw", "after a redacting clean, delete the unredacted versions and "
        "quarantined raw lines for good (counts, hashes and the audit trail stay)", purge_raw,
        where, (("--yes",), {"action": "store_true", "help": "do not ask for confirmation"}))
    add(leaves, "plant-canaries", "copy the training data with random fake identifiers "
        "(canaries) for the memorization check", plant_canaries, where,
        (("--count",), {"type": int, "default": 5}), (("--seed",), {"type": int, "default": 0}))


def _fraction(text: str) -> float:
    try:
        return check_test_fraction(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _mapping(pairs: list[str]) -> dict[str, str] | None:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field or not column:
            raise CommandError(f"--map expects FIELD=COLUMN, got '{pair}'")
        mapping[field.strip()] = column.strip()
    return mapping or None


def data_import(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project = find_project(db, args.project)
    task = args.task or project["task"] or "instruction"
    try:
        if args.preview:
            preview = preview_file(Path(args.file), task, args.format, mapping=_mapping(args.map),
                                   header=args.header, sheet=args.sheet)
            preview.rows = redact_value(preview.rows, display_redactor(db, project["id"]))
            if not args.json:
                _print_preview(preview, task)
            return {"ok": True, "preview": preview.__dict__}
        params = _import_params(args, task)
    except (DataFormatError, MappingError, FileNotFoundError, ValueError) as exc:
        raise CommandError(f"{exc} (nothing was imported)") from exc
    try:
        job_id, result = run_job("data.import", params, project["id"], quiet=args.json,
                                 what="import")
    except CommandError as exc:
        raise CommandError(f"{exc} (nothing was imported)", exc.exit_code) from exc
    summary = ImportSummary(**result)
    if not args.json:
        print(f"imported {summary.records} records ({summary.quarantined} quarantined) as dataset "
              f"{summary.dataset_id}: {summary.train} train / {summary.test} test")
        if summary.split_note():
            print(f"  {summary.split_note()}")
    return {"ok": True, "job_id": job_id, **summary.to_dict()}


def _print_preview(preview, task: str) -> None:

    print(f"format {preview.container}, encoding {preview.encoding or '-'}, task {task}")
    if preview.note:
        print(preview.note)
    first = preview.rows[0] if preview.rows and isinstance(preview.rows[0], dict) else {}
    print("columns: " + "; ".join(column_heading(i, name, str(first.get(name, "")))
                                  for i, name in enumerate(preview.columns, start=1)))
    print("mapping: " + ", ".join(f"{k}={v}" for k, v in preview.mapping.items()))
    for row in preview.rows:
        print("  " + json.dumps(row, ensure_ascii=False)[:160])


def _import_params(args: argparse.Namespace, task: str) -> dict:
    """Check the file and mapping before a job starts; the job's parameters.

    Raises:
        DataFormatError, MappingError, FileNotFoundError, ValueError: as the preview.
    """

    path = Path(args.file)
    mapping = _mapping(args.map)
    preview = preview_file(path, task, args.format, mapping=mapping, header=args.header,
                           sheet=args.sheet)
    check_mapping(preview.mapping, preview.columns, task, path.name)
    return {"path": str(path.resolve()), "task": task, "format": args.format,
            "mapping": mapping, "test_fraction": args.test_fraction, "seed": args.seed,
            "header": args.header, "sheet": args.sheet}


def _recipe(args: argparse.Namespace) -> dict:

    try:
        recipe = CleanRecipe.from_toml(Path(args.recipe))[0] if args.recipe else CleanRecipe()
        values = recipe.to_dict()
        for pair in args.set:
            key, sep, raw = pair.partition("=")
            if not sep:
                raise ValueError(f"--set expects KEY=VALUE, got '{pair}'")
            values[key] = _parse_value(raw)
        return CleanRecipe.from_dict(values).to_dict()
    except (ValueError, OSError) as exc:
        raise CommandError(str(exc)) from exc


def _parse_value(raw: str) -> object:
    import tomllib
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def data_clean(args: argparse.Namespace) -> dict:
    db = open_workspace()
    project = find_project(db, args.project)
    if args.dry_run:
        return _dry_run(db, project, args)
    params = {"recipe": _recipe(args), "dataset_id": args.dataset}
    job_id, result = run_job("data.clean", params, project["id"], quiet=args.json,
                             what="cleaning")
    if not args.json:
        counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items() if v)
        print(f"kept {result['records_out']} of {result['records_in']} records as dataset "
              f"{result['train_id']} ({counts or 'no changes'})")
    return {"ok": True, "job_id": job_id, **result}


def _dry_run(db, project: dict, args: argparse.Namespace) -> dict:

    recipe = _recipe(args)
    try:
        train, _, _ = find_inputs(db, project["id"], args.dataset)
    except CleanError as exc:
        raise CommandError(str(exc)) from exc
    outcome = dry_run(db, project["id"], train["id"])
    replaces = recipe["redaction"] in ("placeholder", "pseudonym") and outcome.policy != "off"
    if not args.json:
        print(f"redaction policy {outcome.policy}, mode {recipe['redaction']}: "
              f"{outcome.records} records of {train['name']} v{train['version']} scanned")
        if not replaces:
            print("  nothing would be replaced (policy or mode off / flag only)")
        for kind, count in outcome.counts.most_common():
            print(f"  {kind:<12} {count:>6}")
            for example in outcome.examples.get(kind, []):
                print(f"      {example[:150]}")
    return {"ok": True, "dry_run": outcome.to_dict(), "replaces": replaces,
            "dataset_id": train["id"]}


def data_policy(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project = find_project(db, args.project)
    try:
        policy = set_project_policy(db, project["id"], args.policy) if args.policy \
            else project_policy(db, project["id"])
    except PolicyError as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"{project['name']}: redaction policy {policy} ({DESCRIPTIONS[policy]})")
    return {"ok": True, "redaction_policy": policy}


def data_report(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project = find_project(db, args.project)
    cleaned = [r for r in runs.list_for_project(db, project["id"]) if r["kind"] == "data.clean"]
    if not cleaned:
        raise CommandError(f"project '{args.project}' has no clean run yet; run 'enclave data clean'")
    run = cleaned[0]
    out = write_html(run["summary"], f"{project['name']}: data quality ({run['name']})", Path(args.html))
    if not args.json:
        print(f"wrote {out}")
    return {"ok": True, "html": str(out), "run_id": run["id"], "counts": run["summary"]["counts"]}


def data_quarantine(args: argparse.Namespace) -> dict:

    db = open_workspace()
    project_id = find_project(db, args.project)["id"]
    shown = display_redactor(db, project_id)
    rows = [{**row, "reason": shown(row["reason"]), "raw": shown(row["raw"])}
            for row in quarantine_for_project(db, project_id)]
    if args.export:
        out = Path(args.export)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as stream:
            for row in rows:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif not args.json:
        for row in rows:
            print(row["reason"], file=sys.stdout)
    return {"ok": True, "count": len(rows), "export": args.export}
