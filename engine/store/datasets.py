"""Dataset versions, their records and their quarantined (bad) records.

A version is immutable: cleaning, splitting and selection each make a new one
whose ``parent_id`` and ``recipe`` say where it came from.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable, Sequence

import sqlite_utils

from engine.store import audit
from engine.store.transactions import transaction


def _dataset_hash(record_hashes: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for value in record_hashes:
        digest.update(value.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _next_version(db: sqlite_utils.Database, project_id: int, name: str) -> int:
    row = db.execute("SELECT MAX(version) FROM datasets WHERE project_id = ? AND name = ?",
                     [project_id, name]).fetchone()
    return (row[0] or 0) + 1


def add_version(db: sqlite_utils.Database, project_id: int, name: str, kind: str,
                records: Sequence[dict], hashes: Sequence[str], *,
                parent_id: int | None = None, recipe: dict | None = None,
                job_id: int | None = None) -> int:
    """Store a new dataset version with its records, in one transaction.

    Args:
        records: the records (JSON-serialisable dicts); key ``_line`` is kept as the line.
        hashes: one content hash per record, same order.

    Returns:
        The new dataset id.
    """
    if len(records) != len(hashes):
        raise ValueError("records and hashes differ in length")
    row = {"project_id": project_id, "name": name, "kind": kind,
           "version": _next_version(db, project_id, name), "parent_id": parent_id,
           "recipe": json.dumps(recipe or {}, sort_keys=True),
           "content_hash": _dataset_hash(hashes), "record_count": len(records),
           "job_id": job_id, "created_at": audit.now()}
    with transaction(db):
        dataset_id = db["datasets"].insert(row).last_pk
        db["records"].insert_all(
            ({"dataset_id": dataset_id, "position": i, "line": rec.get("_line"),
              "data": json.dumps({k: v for k, v in rec.items() if k != "_line"}),
              "content_hash": h} for i, (rec, h) in enumerate(zip(records, hashes))),
            batch_size=500)
        audit.record(db, "dataset.create", f"dataset:{dataset_id}", name=name,
                     kind=kind, records=len(records))
    return dataset_id


def add_quarantine(db: sqlite_utils.Database, dataset_id: int, rows: Iterable[dict]) -> int:
    """Keep bad records beside a dataset: dicts with file, line, field, reason, raw."""
    items = [{"dataset_id": dataset_id, **row} for row in rows]
    db["quarantine"].insert_all(items, batch_size=500)
    return len(items)


def records(db: sqlite_utils.Database, dataset_id: int) -> list[dict]:
    """The records of a version in order (with ``_line`` restored)."""
    out = []
    for row in db.execute("SELECT data, line FROM records WHERE dataset_id = ? "
                          "ORDER BY position", [dataset_id]).fetchall():
        rec = json.loads(row[0])
        rec["_line"] = row[1]
        out.append(rec)
    return out


def quarantined(db: sqlite_utils.Database, dataset_id: int) -> list[dict]:
    """The bad records kept for a dataset."""
    return list(db["quarantine"].rows_where("dataset_id = ?", [dataset_id], order_by="id"))


def list_for_project(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """All versions of a project, oldest first."""
    return list(db["datasets"].rows_where("project_id = ?", [project_id], order_by="id"))


def get(db: sqlite_utils.Database, dataset_id: int) -> dict:
    """One dataset row (raises KeyError naming the id when missing)."""
    rows = list(db["datasets"].rows_where("id = ?", [dataset_id]))
    if not rows:
        raise KeyError(f"dataset {dataset_id} does not exist")
    return rows[0]
