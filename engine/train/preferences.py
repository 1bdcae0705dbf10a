"""Preference pairs for DPO: from expert reviews, from a JSONL file, as a dataset version.

A pair is ``{"prompt", "chosen", "rejected"}`` (and optionally ``"system"``), all strings:
the expert preferred ``chosen`` over ``rejected`` as the answer to ``prompt``. Pairs come from

* blind or open A/B reviews with a preferred side (:func:`engine.store.evaluations.preference_pairs`);
* corrected answers, when asked: the correction is preferred over the model output it corrects
  (:func:`engine.store.evaluations.correction_pairs`);
* a JSONL file the user brings (one pair per line), checked line by line before anything is
  stored.

A DPO run trains on a stored dataset version (kind ``preferences``) so that it can be traced
and replayed; storing the same pairs twice reuses the newest version.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Sequence

import sqlite_utils

from engine.store import datasets, evaluations

PAIR_FIELDS = ("prompt", "chosen", "rejected")
OPTIONAL_FIELDS = ("system",)
DATASET_NAME = "preference-pairs"
DATASET_KIND = "preferences"
MAX_ERRORS_SHOWN = 5
HOW_TO_GET_PAIRS = ("In the Review tab choose 'A is better' / 'B is better' or write a "
                    "corrected answer, or bring a JSONL file with prompt, chosen and rejected "
                    "on each line (enclave train-pairs PROJECT --import FILE).")


class NotEnoughPairs(ValueError):
    """There are no, or too few, preference pairs to train on; the message says how to add some."""


def check_pair(record: Any, where: str) -> dict:
    """One pair, checked: the three fields are non-empty strings and chosen differs.

    Args:
        record: a decoded JSON value.
        where: names the record in messages (e.g. ``"pairs.jsonl line 3"``).

    Returns:
        The pair with only the known fields.

    Raises:
        ValueError: naming ``where`` and the field.
    """
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected an object with fields {', '.join(PAIR_FIELDS)}")
    for name in PAIR_FIELDS:
        if name not in record:
            raise ValueError(f"{where}: field '{name}' is missing")
        if not isinstance(record[name], str) or not record[name].strip():
            raise ValueError(f"{where}: field '{name}' must be a non-empty string")
    if "system" in record and not isinstance(record["system"], str):
        raise ValueError(f"{where}: field 'system' must be a string")
    if record["chosen"].strip() == record["rejected"].strip():
        raise ValueError(f"{where}: fields 'chosen' and 'rejected' are the same text; "
                         "a pair needs two different answers")
    return {name: record[name] for name in (*PAIR_FIELDS, *OPTIONAL_FIELDS) if name in record}


def read_pairs_file(path: str | Path) -> list[dict]:
    """Read and check a JSONL pairs file (blank lines are skipped).

    Raises:
        ValueError: when the file cannot be read or is empty, or listing the first bad lines
            (file, line, field) and how many lines are bad; nothing is returned then.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    pairs, errors = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            pairs.append(check_pair(json.loads(line), where))
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
        except ValueError as exc:
            errors.append(str(exc))
    if errors:
        shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN \
            else ""
        raise ValueError(f"{len(errors)} bad line(s) in {path}, nothing imported: {shown}{more}")
    if not pairs:
        raise ValueError(f"{path}: no preference pair in the file")
    return pairs


def write_pairs_file(pairs: Sequence[dict], path: str | Path) -> Path:
    """Write pairs as JSONL (UTF-8), through a temporary file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(temporary, "w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    os.replace(temporary, path)
    return path


def stored_pairs(db: sqlite_utils.Database, project_id: int,
                 include_corrections: bool = True) -> list[dict]:
    """Pairs from every reviewed evaluation of a project, oldest run first, without repeats.

    Args:
        include_corrections: also turn corrected answers into pairs.
    """
    pairs, seen = [], set()
    for run_id in evaluations.evaluation_run_ids(db, project_id):
        found = evaluations.preference_pairs(db, run_id)
        if include_corrections:
            found += evaluations.correction_pairs(db, run_id)
        for pair in found:
            key = pair_hash(pair)
            if pair["chosen"].strip() != pair["rejected"].strip() and key not in seen:
                seen.add(key)
                pairs.append(pair)
    return pairs


def count_stored_pairs(db: sqlite_utils.Database, project_id: int) -> dict[str, int]:
    """How many pairs the reviews give: ``{"preferences", "corrections", "total"}``."""
    with_corrections = len(stored_pairs(db, project_id, include_corrections=True))
    preferences = len(stored_pairs(db, project_id, include_corrections=False))
    return {"preferences": preferences, "corrections": with_corrections - preferences,
            "total": with_corrections}


def pair_hash(pair: dict) -> str:
    """SHA-256 of a pair's fields (whitespace at the ends ignored)."""
    digest = hashlib.sha256()
    for name in (*OPTIONAL_FIELDS, *PAIR_FIELDS):
        digest.update(str(pair.get(name, "")).strip().encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def store_pairs(db: sqlite_utils.Database, project_id: int, pairs: Sequence[dict],
                source: dict, name: str = DATASET_NAME) -> int:
    """Store pairs as a new version of dataset ``name`` (kind ``preferences``).

    The newest version is reused when it holds exactly these pairs.

    Returns:
        The dataset id.

    Raises:
        NotEnoughPairs: when ``pairs`` is empty.
    """
    if not pairs:
        raise NotEnoughPairs(f"project {project_id} has no preference pair to store. "
                             + HOW_TO_GET_PAIRS)
    hashes = [pair_hash(pair) for pair in pairs]
    newest = [row for row in datasets.list_for_project(db, project_id)
              if row["name"] == name and row["kind"] == DATASET_KIND]
    if newest and _record_hashes(db, newest[-1]["id"]) == hashes:
        return int(newest[-1]["id"])
    return datasets.add_version(db, project_id, name, DATASET_KIND, list(pairs), hashes,
                                role=datasets.PAIRS,
                                recipe=source)


def _record_hashes(db: sqlite_utils.Database, dataset_id: int) -> list[str]:
    return [row[0] for row in db.execute(
        "SELECT content_hash FROM records WHERE dataset_id = ? ORDER BY position", [dataset_id])]


def dataset_pairs(db: sqlite_utils.Database, dataset_id: int) -> list[dict]:
    """The checked pairs of a stored dataset version.

    Raises:
        ValueError: when the dataset does not exist or a record is not a pair (named).
    """
    try:
        row = datasets.get(db, dataset_id)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from exc
    where = f"dataset {row['name']} v{row['version']}"
    return [check_pair(record, f"{where} record {index + 1}")
            for index, record in enumerate(datasets.records(db, dataset_id))]


def pair_datasets(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """A project's stored preference-pair versions, newest first."""
    return [row for row in reversed(datasets.list_for_project(db, project_id))
            if row["kind"] == DATASET_KIND]


def require_pairs(pairs: Sequence[dict], minimum: int, source: str) -> None:
    """Raise :class:`NotEnoughPairs` when there are fewer than ``minimum`` pairs.

    Args:
        source: what the pairs came from, for the message (e.g. ``"the reviews of project 2"``).
    """
    if not pairs:
        raise NotEnoughPairs(f"No preference pairs in {source}. " + HOW_TO_GET_PAIRS)
    if len(pairs) < minimum:
        raise NotEnoughPairs(f"Only {len(pairs)} preference pair(s) in {source}; DPO needs at "
                             f"least {minimum} (recipe field min_pairs). " + HOW_TO_GET_PAIRS)


def import_pairs(db: sqlite_utils.Database, project_id: int, path: str | Path,
                 name: str = DATASET_NAME) -> int:
    """Check a JSONL pairs file and store it as a dataset version; returns its id.

    Raises:
        ValueError: naming file, line and field of bad lines (nothing is stored then).
    """
    pairs = read_pairs_file(path)
    return store_pairs(db, project_id, pairs, {"source": "file", "file": str(path)}, name)


def snapshot_stored_pairs(db: sqlite_utils.Database, project_id: int,
                          include_corrections: bool = True) -> int:
    """Store the pairs of a project's reviews as a dataset version; returns its id.

    Raises:
        NotEnoughPairs: when the reviews give no pair.
    """
    pairs = stored_pairs(db, project_id, include_corrections)
    if not pairs:
        raise NotEnoughPairs(f"No preference pairs in the reviews of project {project_id}. "
                             + HOW_TO_GET_PAIRS)
    runs = evaluations.evaluation_run_ids(db, project_id)
    return store_pairs(db, project_id, pairs, {"source": "expert review", "eval_runs": runs,
                                               "include_corrections": include_corrections})
