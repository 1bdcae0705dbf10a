"""`enclave validate RECIPE.toml`: check every recipe table of a file without running it."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

from engine.cli.errors import CommandError
from engine.cli.parser import add_command as add
from engine.compress.recipe import CompressRecipe
from engine.config import VERSION_KEY, closest
from engine.data.clean_recipe import CleanRecipe
from engine.data.import_recipe import ImportRecipe
from engine.demo.pipeline import DemoRecipe
from engine.evaluate.job import EvalRecipe
from engine.select.recipe import SelectionRecipe
from engine.train.dpo_recipe import DpoRecipe
from engine.train.recipe import TrainRecipe

# Keys a recipe file may hold beside its tables (what the run starts from).
RUN_KEYS = ("base", "dataset", "from_run", "pairs", VERSION_KEY)


def register(sub) -> None:
    """Add ``validate``."""
    add(sub, "validate", "check a recipe file (any of its [train], [dpo], [clean], [select], "
        "[compress], [evaluate], [import], [demo] tables) without running anything",
        validate, (("file",), {"help": "the TOML recipe file"}))


def recipe_classes() -> dict[str, type]:
    """Every recipe by its TOML table name."""

    return {cls.SECTION: cls for cls in (TrainRecipe, DpoRecipe, CleanRecipe, SelectionRecipe,
                                         CompressRecipe, EvalRecipe, ImportRecipe, DemoRecipe)}


def validate(args: argparse.Namespace) -> dict:
    path = Path(args.file)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CommandError(f"{path}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") \
            from None
    classes = recipe_classes()
    tables = {key: value for key, value in data.items() if isinstance(value, dict)}
    for key in data:
        if key not in tables and key not in RUN_KEYS:
            raise CommandError(f"{path}: unknown key '{key}'{closest(key, list(RUN_KEYS))}")
    if not tables:
        raise CommandError(f"{path}: no recipe table; expected one of "
                           f"{', '.join(f'[{name}]' for name in classes)}")
    checked = {}
    for name, values in tables.items():
        if name not in classes:
            raise CommandError(f"{path}: unknown table [{name}]{closest(name, list(classes))}")
        stamp = {VERSION_KEY: data[VERSION_KEY]} if VERSION_KEY in data else {}
        try:
            checked[name] = classes[name].from_dict({**values, **stamp},
                                                    where=f"{path} [{name}]").to_dict()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    if not args.json:
        for name, values in checked.items():
            print(f"{path} [{name}]: ok ({len(values)} fields, "
                  f"{sum(1 for key in values if key in tables[name])} set in the file)")
    return {"ok": True, "file": str(path), "recipes": checked}
