"""Where an evaluation gets its models and test records, and the contamination check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from engine.data.file_records import read_records
from engine.data.records import content_hash
from engine.models.run_models import get_run
from engine.store import datasets, lineage


@dataclass
class ModelSide:
    """One model to evaluate: a folder, optionally with a LoRA adapter on top, or a
    compressed variant (a model folder, quantized or not, or a ``.gguf`` file)."""

    name: str
    folder: Path
    adapter: Path | None = None
    dtype: str | None = None
    compress_run: int | None = None


def _run_artifacts(db: sqlite_utils.Database, run_id: int) -> dict[str, Path]:
    return {row["kind"]: Path(row["path"])
            for row in db["artifacts"].rows_where("run_id = ?", [run_id], order_by="id")}


def model_sides(db: sqlite_utils.Database, run_id: int) -> dict[str, ModelSide]:
    """The base and tuned models of a training run.

    The tuned model is the run's ``merged-model`` artifact, or the base with its
    ``lora-adapter``. The base is the recipe's ``base_model`` or the adapter's
    ``base_model_name_or_path``.

    Raises:
        ValueError: when the run has no tuned model or its base cannot be found.
    """
    run = get_run(db, run_id)
    found = _run_artifacts(db, run_id)
    adapter = found.get("lora-adapter")
    base = run["recipe"].get("base_model")
    if base is None and adapter is not None and (adapter / "adapter_config.json").exists():
        base = json.loads((adapter / "adapter_config.json").read_text()).get(
            "base_model_name_or_path")
    sides = {}
    if base and Path(base).is_dir():
        sides["base"] = ModelSide("base", Path(base))
    if "merged-model" in found:
        sides["tuned"] = ModelSide("tuned", found["merged-model"])
    elif adapter is not None and "base" in sides:
        sides["tuned"] = ModelSide("tuned", sides["base"].folder, adapter)
    if "tuned" not in sides:
        raise ValueError(f"run {run_id} ({run['kind']}) has no tuned model: neither a "
                         "'merged-model' nor a 'lora-adapter' with a local base model")
    return sides


def load_test_records(db: sqlite_utils.Database, project_id: int,
                      test_file: str | None = None,
                      run_id: int | None = None) -> tuple[list[dict], str]:
    """Test records from a JSONL file the user brings, or the held-out set of ``run_id``
    (see :func:`engine.store.lineage.held_out_set`).

    Returns:
        ``(records, description of the source)``.

    Raises:
        ValueError: naming file, line and field of the first bad record, or when the
            project has no held-out split.
    """
    if test_file:
        result = read_records(Path(test_file), "instruction")
        if result.errors:
            raise ValueError(result.first_problem())
        if not result.records:
            raise ValueError(f"{test_file}: no record to evaluate")
        return result.records, str(test_file)
    held_out = lineage.held_out_set(db, project_id, run_id)
    if held_out is None:
        raise ValueError("the project has no held-out test records: import with a test "
                         "share above 0, or choose a test file")
    return datasets.records(db, held_out["id"]), f"{held_out['name']} v{held_out['version']}"


def training_dataset_ids(db: sqlite_utils.Database, project_id: int) -> list[int]:
    """Datasets a model of the project may have learned from: every version whose role
    is ``train`` (splits, cleaned versions, coresets, exported reviews)."""
    return [row["id"] for row in datasets.of_role(db, project_id, datasets.TRAIN)]


def contaminated(db: sqlite_utils.Database, project_id: int, records: list[dict]) -> set[int]:
    """Indices of test records whose content hash occurs in the project's training data
    (see :func:`training_dataset_ids`)."""

    hashes: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        try:
            hashes.setdefault(content_hash(record, "instruction"), []).append(index)
        except (KeyError, TypeError, ValueError):
            continue
    train_ids = training_dataset_ids(db, project_id)
    found: set[int] = set()
    keys = list(hashes)
    for at in range(0, len(keys), 500):
        chunk = keys[at:at + 500]
        rows = db.execute(
            f"SELECT DISTINCT content_hash FROM records WHERE dataset_id IN "
            f"({','.join('?' * len(train_ids)) or 'NULL'}) AND content_hash IN "
            f"({','.join('?' * len(chunk))})", [*train_ids, *chunk]).fetchall()
        for (value,) in rows:
            found.update(hashes[value])
    return found


def training_records(db: sqlite_utils.Database, project_id: int,
                     run_id: int | None = None) -> list[dict]:
    """The records of :func:`engine.store.lineage.reference_training_set` (the reference for drift), or []."""
    row = lineage.reference_training_set(db, project_id, run_id)
    return datasets.records(db, row["id"]) if row else []
