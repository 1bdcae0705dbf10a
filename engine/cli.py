"""`enclave …`: a thin command line over the engine (parse, call, print).

Every command takes ``--json`` and then prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Callable

import engine  # noqa: F401  (offline switches before anything else)
from engine.cli_errors import CommandError


def add_command(sub, name: str, help_text: str, func: Callable,
                *args: tuple) -> argparse.ArgumentParser:
    """Add one command with ``--json``; ``args`` are (flags, options) pairs."""
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    for flags, options in args:
        parser.add_argument(*flags, **options)
    parser.set_defaults(func=func)
    return parser


# Modules that add commands: each has ``register(sub)`` and calls :func:`add_command`.
COMMAND_MODULES = [
    "engine.cli_commands",
    "engine.cli_train",
    "engine.cli_train_dpo",
    "engine.cli_compress",
    "engine.cli_data",
    "engine.cli_eval",
    "engine.cli_select",
    "engine.cli_doctor",
    "engine.cli_offline",
]


def build_parser() -> argparse.ArgumentParser:
    """The parser of every `enclave` command."""
    parser = argparse.ArgumentParser(
        prog="enclave", description="Offline studio to clean data, select a coreset, "
        "fine-tune, compress and evaluate language models on this workstation.")
    parser.add_argument("--version", action="version", version=engine.__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except CommandError as exc:
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
