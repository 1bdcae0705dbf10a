"""`enclave …`: a thin command line over the engine (parse, call, print).

Every command takes ``--json`` and then prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

import engine  # noqa: F401  (offline switches before anything else)
from engine import cli_commands as commands


def _add(sub, name: str, help_text: str, func: Callable, *args: tuple) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    for flags, options in args:
        parser.add_argument(*flags, **options)
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The parser of every `enclave` command."""
    parser = argparse.ArgumentParser(
        prog="enclave", description="Offline studio to clean data, select a coreset, "
        "fine-tune, compress and evaluate language models on this workstation.")
    parser.add_argument("--version", action="version", version=engine.__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add(sub, "gui", "open the desktop window", commands.gui)
    _add(sub, "demo", "run the whole pipeline on the bundled models and demo data",
         commands.demo,
         (("--quick",), {"action": "store_true", "help": "tiny run (about a minute)"}),
         (("--project",), {"help": "project name (default: a new 'Demo' project)"}))
    _add(sub, "projects", "list projects", commands.projects_list)
    _add(sub, "create-project", "create a project", commands.projects_create,
         (("name",), {}), (("--task",), {"default": "instruction",
                                          "choices": ["instruction", "classification", "text"]}))
    _add(sub, "delete-project", "delete a project and everything it owns",
         commands.projects_delete, (("name",), {}))
    _add(sub, "jobs", "list jobs with state and progress", commands.jobs_list,
         (("--project",), {"help": "only this project's jobs"}))
    _add(sub, "models", "list the bundled models and the device", commands.models_list)
    _add(sub, "check-model", "validate a local model folder before import",
         commands.models_check, (("folder",), {}))
    _add(sub, "generate-demo-data", "write the seeded demo exports (clinical, legal)",
         commands.generate_demo_data, (("folder",), {}),
         (("--seed",), {"type": int, "default": 0}))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except commands.CommandError as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}))
        else:
            print(f"enclave: {exc}", file=sys.stderr)
        return exc.exit_code
    if isinstance(result, int):
        return result
    if args.json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
