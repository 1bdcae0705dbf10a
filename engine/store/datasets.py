"""Dataset versions, their records and their quarantined (bad) records.

A version is immutable: cleaning, splitting and selection each make a new one
whose ``parent_id`` and ``recipe`` say where it came from.

Every version has a stored role (see :data:`ROLES`); a training version also names
its held-out partner (``test_id``), the test split prepared the same way (raw for a
raw split, cleaned with the same recipe for a cleaned one). Nothing infers a role
from a version's name.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable, Sequence

import sqlite_utils

from engine.store import audit
from engine.store.transactions import transaction

POOL, TRAIN, TEST, PAIRS = "pool", "train", "test", "pairs"
BUILDING, PUBLISHED = "building", "published"
VISIBLE = "state = 'published'"
ROLES = {POOL: "everything imported, before the hold-out split",
         TRAIN: "records a model may learn from",
         TEST: "held-out records, only for evaluation",
         PAIRS: "preference pairs (prompt, chosen, rejected) for DPO"}


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


def check_role(role: str) -> str:
    """``role`` when it is one of :data:`ROLES`.

    Raises:
        ValueError: naming the allowed roles.
    """
    if role not in ROLES:
        raise ValueError(f"dataset role {role!r} is not one of {', '.join(ROLES)}")
    return role


def add_version(db: sqlite_utils.Database, project_id: int, name: str, kind: str,
                records: Sequence[dict], hashes: Sequence[str], *, role: str,
                parent_id: int | None = None, recipe: dict | None = None,
                job_id: int | None = None, test_id: int | None = None) -> int:
    """Store a new dataset version with its records, in one transaction.

    Args:
        records: the records (JSON-serialisable dicts); key ``_line`` is kept as the line.
        hashes: one content hash per record, same order.
        role: one of :data:`ROLES`.
        test_id: the held-out version that goes with a training version.

    Returns:
        The new dataset id.
    """
    if len(records) != len(hashes):
        raise ValueError("records and hashes differ in length")
    row = {"project_id": project_id, "name": name, "kind": kind,
           "version": _next_version(db, project_id, name), "parent_id": parent_id,
           "recipe": json.dumps(recipe or {}, sort_keys=True),
           "content_hash": _dataset_hash(hashes), "record_count": len(records),
           "job_id": job_id, "created_at": audit.now(), "role": check_role(role),
           "test_id": test_id}
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
    """Keep bad records beside a dataset, in one short transaction: dicts with file, line,
    field, reason and raw. Returns how many were kept."""
    items = [(dataset_id, r["file"], r["line"], r.get("field"), r["reason"], r.get("raw"))
             for r in rows]
    if items:
        with transaction(db):
            db.conn.executemany("INSERT INTO quarantine (dataset_id, file, line, field, reason, "
                                "raw) VALUES (?, ?, ?, ?, ?, ?)", items)
    return len(items)


def quarantine_count(db: sqlite_utils.Database, dataset_id: int) -> int:
    """How many lines were kept out of a version when it was imported."""
    return db["quarantine"].count_where("dataset_id = ?", [dataset_id])


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
    return list(db["datasets"].rows_where(f"project_id = ? AND {VISIBLE}", [project_id],
                                          order_by="id"))


def get(db: sqlite_utils.Database, dataset_id: int) -> dict:
    """One dataset row (raises KeyError naming the id when missing)."""
    rows = list(db["datasets"].rows_where("id = ?", [dataset_id]))
    if not rows:
        raise KeyError(f"dataset {dataset_id} does not exist")
    return rows[0]


def of_role(db: sqlite_utils.Database, project_id: int, *roles: str) -> list[dict]:
    """The project's versions with one of ``roles``, oldest first."""
    marks = ",".join("?" * len(roles))
    return list(db["datasets"].rows_where(f"project_id = ? AND {VISIBLE} AND role IN ({marks})",
                                          [project_id, *roles], order_by="id"))


def lineage(db: sqlite_utils.Database, dataset_id: int) -> list[dict]:
    """A version and its ancestors, the version first."""
    chain: list[dict] = []
    current: int | None = dataset_id
    while current is not None and all(row["id"] != current for row in chain):
        rows = list(db["datasets"].rows_where("id = ?", [current]))
        if not rows:
            break
        chain.append(rows[0])
        current = rows[0]["parent_id"]
    return chain


def held_out_for(db: sqlite_utils.Database, dataset_id: int) -> dict | None:
    """The held-out test version that goes with a training version: its own ``test_id``
    or the nearest ancestor's; None when no ancestor was split."""
    for row in lineage(db, dataset_id):
        if row["role"] == TEST:
            return row
        if row.get("test_id"):
            return get(db, row["test_id"])
    return None


def learnable(db: sqlite_utils.Database, project_id: int,
              exclude_kinds: tuple[str, ...] = ()) -> list[dict]:
    """Versions a model may learn from, newest first: training versions and imports that
    were not split (a split import holds its test records), skipping ``exclude_kinds``."""
    return [row for row in reversed(of_role(db, project_id, TRAIN, POOL))
            if row["kind"] not in exclude_kinds
            and not (row["role"] == POOL and _was_split(db, row["id"]))]


def default_training(db: sqlite_utils.Database, project_id: int,
                     exclude_kinds: tuple[str, ...] = ()) -> dict | None:
    """The newest of :func:`learnable`; None when the project has none."""
    rows = learnable(db, project_id, exclude_kinds)
    return rows[0] if rows else None


def _was_split(db: sqlite_utils.Database, dataset_id: int) -> bool:
    return bool(db.execute(f"SELECT 1 FROM datasets WHERE parent_id = ? AND role = ? AND {VISIBLE} "
                           "LIMIT 1",
                           [dataset_id, TEST]).fetchone())


def publish(db: sqlite_utils.Database, dataset_ids: Sequence[int]) -> None:
    """Make building versions visible, all at once (one short transaction)."""
    with transaction(db):
        for dataset_id in dataset_ids:
            db.execute("UPDATE datasets SET state = ? WHERE id = ?", [PUBLISHED, dataset_id])


def discard(db: sqlite_utils.Database, dataset_ids: Sequence[int], batch: int = 5000) -> int:
    """Delete building versions with their records and quarantine, in short transactions.

    Newest first, whatever order they are given in: a version's parent is always older,
    so children go before their parent (links to a held-out partner are cleared first).

    Returns:
        The number of versions removed (published ones are never touched).
    """
    removed = 0
    for dataset_id in sorted(set(dataset_ids), reverse=True):
        row = db.execute("SELECT state FROM datasets WHERE id = ?", [dataset_id]).fetchone()
        if row is None or row[0] != BUILDING:
            continue
        for table in ("records", "quarantine"):
            while True:
                with transaction(db):
                    gone = db.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM "
                                      f"{table} WHERE dataset_id = ? LIMIT ?)",
                                      [dataset_id, batch]).rowcount
                if gone < batch:
                    break
        with transaction(db):
            db.execute("UPDATE datasets SET test_id = NULL WHERE test_id = ?", [dataset_id])
            db.execute("DELETE FROM datasets WHERE id = ? AND state = ?", [dataset_id, BUILDING])
        removed += 1
    return removed


def discard_job(db: sqlite_utils.Database, job_id: int) -> int:
    """Remove the building versions a job left (it was cancelled, killed or failed)."""
    left = [row[0] for row in db.execute("SELECT id FROM datasets WHERE state = ? AND job_id = ? "
                                         "ORDER BY id DESC", [BUILDING, job_id])]
    return discard(db, left)


def sweep_building(db: sqlite_utils.Database, live_job_ids: Iterable[int] = ()) -> int:
    """Remove building versions left by a stage that was cancelled, crashed or killed:
    every building version whose job is not in ``live_job_ids``.

    Returns:
        The number of versions removed.
    """
    live = set(live_job_ids)
    left = [dataset_id for dataset_id, job_id in db.execute(
        "SELECT id, job_id FROM datasets WHERE state = ? ORDER BY id DESC", [BUILDING])
        if job_id not in live]
    return discard(db, left)
