"""The `enclave` argument parser: each command group module adds its commands."""

from __future__ import annotations

import argparse
import importlib
import json
from dataclasses import fields
from typing import Any, Callable

import engine
from engine.cli.errors import CommandError

PASSPHRASE_FILE = (("--passphrase-file",), {"metavar": "FILE", "help": "read the passphrase "
                   "of an encrypted workspace from the first line of FILE (default: ask)"})

# Modules that add commands: each has ``register(sub)`` and calls :func:`add_command`.
COMMAND_MODULES = [
    "engine.cli.projects",
    "engine.cli.train",
    "engine.cli.dpo",
    "engine.cli.compress",
    "engine.cli.data",
    "engine.cli.eval",
    "engine.cli.select",
    "engine.cli.doctor",
    "engine.cli.offline",
    "engine.cli.validate",
    "engine.cli.security",  # after data: adds `data purge-raw` and `data plant-canaries`
]


def add_command(sub, name: str, help_text: str, func: Callable,
                *args: tuple) -> argparse.ArgumentParser:
    """Add one command with ``--json``; ``args`` are (flags, options) pairs."""
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
    flags, options = PASSPHRASE_FILE
    parser.add_argument(*flags, **options)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def recipe_option(recipe: type, name: str) -> dict[str, Any]:
    """argparse options for a recipe field: its default, its choices and its help, read from
    the recipe itself so that the command line and the recipe never disagree."""
    item = next(f for f in fields(recipe) if f.name == name)
    options: dict[str, Any] = {"default": item.default, "help": item.metadata.get("help", "")
                               .replace("%", "%%")}
    if item.metadata.get("choices"):
        options["choices"] = list(item.metadata["choices"])
    return options


def flag_value(text: str) -> Any:
    """A command-line value as JSON when it parses (numbers, true/false), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def set_values(items: list[str]) -> dict[str, Any]:
    """``{field: value}`` of repeated ``--set FIELD=VALUE`` flags.

    Raises:
        CommandError: for an item without ``=``.
    """
    values = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise CommandError(f"--set {item!r}: expected FIELD=VALUE")
        values[key.strip()] = flag_value(text)
    return values
