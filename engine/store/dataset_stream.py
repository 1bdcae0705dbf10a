"""Dataset versions written in batches, for imports and cleaning runs too big for memory.

A version starts "building" (invisible to every reader); each batch is its own short
transaction, so other jobs never wait long for the write lock. ``finish`` writes the
count and the dataset hash (the same hash as :func:`engine.store.datasets.add_version`:
SHA-256 over the record hashes); the stage then publishes all its versions at once
(:func:`engine.store.datasets.publish`) or discards them on failure
(:func:`engine.store.datasets.discard`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable, Iterator, Sequence

import sqlite_utils

from engine.store import audit, datasets, record_search
from engine.store.transactions import transaction


class VersionWriter:
    """Writes one new dataset version batch by batch.

    Args:
        db: The store.
        project_id, name, kind: The version's project, name and kind ("import", "clean", …).
        role: One of :data:`engine.store.datasets.ROLES`.
        parent_id, recipe, job_id: Where it came from.
        test_id: The held-out version that goes with a training version.
    """

    def __init__(self, db: sqlite_utils.Database, project_id: int, name: str, kind: str, *,
                 role: str, parent_id: int | None = None, recipe: dict | None = None,
                 job_id: int | None = None, test_id: int | None = None) -> None:
        self.db, self.count, self.kind, self.project_id = db, 0, kind, project_id
        self._digest = hashlib.sha256()
        version = (db.execute("SELECT MAX(version) FROM datasets WHERE project_id = ? AND name = ?",
                              [project_id, name]).fetchone()[0] or 0) + 1
        with transaction(db):
            self.dataset_id = db["datasets"].insert({
                "project_id": project_id, "name": name, "kind": kind, "version": version,
                "parent_id": parent_id,
                "recipe": json.dumps(recipe or {}, sort_keys=True, default=str),
                "content_hash": "", "record_count": 0, "job_id": job_id,
                "created_at": audit.now(), "role": datasets.check_role(role),
                "test_id": test_id, "state": datasets.BUILDING}).last_pk

    def append(self, records: Sequence[dict], hashes: Sequence[str]) -> None:
        """Add records (``_line`` kept as the line column) with their content hashes."""
        rows = []
        for record, digest in zip(records, hashes, strict=True):
            data = json.dumps({k: v for k, v in record.items() if k != "_line"}, ensure_ascii=False)
            rows.append((self.dataset_id, self.count, record.get("_line"), data, digest))
            self._digest.update(digest.encode() + b"\n")
            self.count += 1
        with transaction(self.db):
            self.db.conn.executemany("INSERT INTO records (dataset_id, position, line, data, "
                                     "content_hash) VALUES (?, ?, ?, ?, ?)", rows)
            self._index(self.count - len(rows))

    def copy(self, source_id: int, positions: Iterable[int], batch: int = 5000) -> None:
        """Append records of another version at ``positions``, in that order, inside SQLite
        (one short transaction per ``batch`` records)."""
        first, chunk = self.count, []
        for position in positions:
            chunk.append((self.dataset_id, self.count, source_id, position))
            self.count += 1
            if len(chunk) >= batch:
                self._copy_rows(chunk)
                chunk = []
        self._copy_rows(chunk)
        for (digest,) in self.db.conn.execute(
                "SELECT content_hash FROM records WHERE dataset_id = ? AND position >= ? ORDER BY position",
                [self.dataset_id, first]):
            self._digest.update(digest.encode() + b"\n")

    def _copy_rows(self, rows: list[tuple[int, int, int, int]]) -> None:
        if not rows:
            return
        with transaction(self.db):
            self.db.conn.executemany(
                "INSERT INTO records (dataset_id, position, line, data, content_hash) SELECT ?, ?, "
                "line, data, content_hash FROM records WHERE dataset_id = ? AND position = ?", rows)
            self._index(rows[0][1])

    def _index(self, first: int) -> None:
        """Index for search the records from position ``first`` on, in the caller's
        transaction (the insert trigger leaves a building version's records to us)."""
        self.db.execute("INSERT INTO records_fts (rowid, data) SELECT id, "
                        f"{record_search.INDEXED_TEXT.format(row='records')} FROM records "
                        "WHERE dataset_id = ? AND position >= ?", [self.dataset_id, first])

    def finish(self, *, test_id: int | None = None, **detail: object) -> int:
        """Write the count and dataset hash (and the held-out partner ``test_id`` when
        given), log it, and return the dataset id."""
        done = {"record_count": self.count, "content_hash": self._digest.hexdigest()}
        if test_id is not None:
            done["test_id"] = test_id
        with transaction(self.db):
            self.db["datasets"].update(self.dataset_id, done)
            audit.record(self.db, "dataset.create", f"dataset:{self.dataset_id}",
                         **{"kind": self.kind, "project_id": self.project_id, **detail,
                            "records": self.count})
        return self.dataset_id


def iter_records(db: sqlite_utils.Database, dataset_id: int,
                 batch: int = 2000) -> Iterator[tuple[int, dict, str]]:
    """Yield ``(position, record, content_hash)`` of a version in order, a batch at a time."""
    last = -1
    while True:
        rows = db.execute("SELECT position, data, line, content_hash FROM records WHERE dataset_id = ? "
                          "AND position > ? ORDER BY position LIMIT ?",
                          [dataset_id, last, batch]).fetchall()
        if not rows:
            return
        for position, data, line, digest in rows:
            record = json.loads(data)
            record["_line"] = line
            yield position, record, digest
        last = rows[-1][0]



def quarantine_for_project(db: sqlite_utils.Database, project_id: int) -> list[dict]:
    """Every quarantined record of a project's datasets, oldest first."""
    return [dict(zip(("id", "dataset_id", "file", "line", "field", "reason", "raw"), row))
            for row in db.execute(
                "SELECT q.id, q.dataset_id, q.file, q.line, q.field, q.reason, q.raw FROM quarantine q "
                "JOIN datasets d ON d.id = q.dataset_id WHERE d.project_id = ? "
                "AND d.state = 'published' ORDER BY q.id",
                [project_id]).fetchall()]
