"""The model files a run produced, as the store records them: a full model folder, or an
adapter and the base it was trained on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from engine.models.bundled import smollm2_cache_folder


class RunModelError(ValueError):
    """The run does not exist or has no model on disk; the message names it."""


MODEL_KINDS = ("merged-model", "compressed-model", "model")
ADAPTER_KIND = "lora-adapter"


@dataclass
class RunSource:
    """The model a run produced: a full model folder, or an adapter and its base."""

    run: dict
    model: Path | None
    adapter: Path | None
    base: Path | None


def get_run(db: sqlite_utils.Database, run_id: int) -> dict:
    """A run row with recipe and summary decoded.

    Raises:
        RunModelError: naming the run when it does not exist.
    """
    rows = list(db["runs"].rows_where("id = ?", [run_id]))
    if not rows:
        raise RunModelError(f"run {run_id} does not exist")
    run = rows[0]
    run["recipe"] = json.loads(run["recipe"] or "{}")
    run["summary"] = json.loads(run["summary"] or "{}")
    return run


def _artifacts(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    return list(db["artifacts"].rows_where("run_id = ?", [run_id], order_by="id desc"))


def adapter_base(adapter: Path) -> Path | None:
    """The base model folder an adapter was trained on, when it is still on disk."""
    for name, key in (("enclave_recipe.json", "base_model"),
                      ("adapter_config.json", "base_model_name_or_path")):
        try:
            value = json.loads((adapter / name).read_text(encoding="utf-8")).get(key)
        except (OSError, json.JSONDecodeError):
            continue
        if value and (Path(value) / "config.json").is_file():
            return Path(value)
    return None


def run_source(db: sqlite_utils.Database, run_id: int) -> RunSource:
    """The model files of a run: newest model folder artifact, adapter and base.

    Raises:
        RunModelError: when the run does not exist or produced no model.
    """
    run = get_run(db, run_id)
    model = adapter = None
    for row in _artifacts(db, run_id):
        path = Path(row["path"])
        if row["kind"] in MODEL_KINDS and model is None and (path / "config.json").is_file():
            model = path
        elif row["kind"] == ADAPTER_KIND and adapter is None and path.is_dir():
            adapter = path
    if model is None and adapter is None:
        raise RunModelError(f"run {run_id} ({run['kind']} '{run['name']}') has no "
                                   "model folder or adapter on disk to compress")
    base = adapter_base(adapter) if adapter else None
    if adapter is not None and base is None:
        bundled = smollm2_cache_folder()
        base = bundled if (bundled / "config.json").is_file() else None
    return RunSource(run, model, adapter, base)
