"""Schema versions and their ordered migrations.

``PRAGMA user_version`` holds the version. Each migration is a function of the
database that runs inside one transaction; a file that already holds data is
copied to ``<name>.bak-v<old>`` before it is upgraded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import sqlite_utils

from engine.store import audit, record_search
from engine.store.transactions import transaction

Migration = Callable[[sqlite_utils.Database], None]


def _v1_core_tables(db: sqlite_utils.Database) -> None:
    db["projects"].create({"id": int, "name": str, "description": str, "task": str,
                           "created_at": str}, pk="id", not_null={"name"})
    db["projects"].create_index(["name"], unique=True)
    db["jobs"].create({"id": int, "project_id": int, "kind": str, "state": str,
                       "params": str, "pid": int, "heartbeat": float, "created_at": str,
                       "started_at": str, "finished_at": str, "error": str, "result": str,
                       "cancel_requested": int, "stage": str, "step": int, "total": int,
                       "message": str},
                      pk="id", foreign_keys=[("project_id", "projects", "id")],
                      defaults={"state": "queued", "cancel_requested": 0})
    db["job_events"].create({"id": int, "job_id": int, "time": float, "stage": str,
                             "step": int, "total": int, "message": str, "metrics": str},
                            pk="id", foreign_keys=[("job_id", "jobs", "id")])
    db["datasets"].create({"id": int, "project_id": int, "name": str, "version": int,
                           "parent_id": int, "kind": str, "recipe": str, "content_hash": str,
                           "record_count": int, "job_id": int, "created_at": str},
                          pk="id", foreign_keys=[("project_id", "projects", "id"),
                                                 ("parent_id", "datasets", "id"),
                                                 ("job_id", "jobs", "id")])
    db["records"].create({"id": int, "dataset_id": int, "position": int, "line": int,
                          "data": str, "content_hash": str},
                         pk="id", foreign_keys=[("dataset_id", "datasets", "id")])
    db["quarantine"].create({"id": int, "dataset_id": int, "file": str, "line": int,
                             "field": str, "reason": str, "raw": str},
                            pk="id", foreign_keys=[("dataset_id", "datasets", "id")])
    db["runs"].create({"id": int, "project_id": int, "job_id": int, "kind": str,
                       "name": str, "recipe": str, "summary": str, "created_at": str},
                      pk="id", foreign_keys=[("project_id", "projects", "id"),
                                             ("job_id", "jobs", "id")])
    db["metrics"].create({"id": int, "run_id": int, "name": str, "step": int,
                          "value": float, "time": float},
                         pk="id", foreign_keys=[("run_id", "runs", "id")])
    db["artifacts"].create({"id": int, "project_id": int, "run_id": int, "kind": str,
                            "path": str, "sha256": str, "size_bytes": int, "meta": str,
                            "created_at": str},
                           pk="id", foreign_keys=[("project_id", "projects", "id"),
                                                  ("run_id", "runs", "id")])
    db["audit_log"].create({"id": int, "time": str, "actor": str, "action": str,
                            "object": str, "outcome": str, "detail": str}, pk="id")


def _v2_indexes_and_append_only_audit(db: sqlite_utils.Database) -> None:
    db["records"].create_index(["dataset_id", "position"])
    db["records"].create_index(["content_hash"])
    db["metrics"].create_index(["run_id", "name", "step"])
    db["job_events"].create_index(["job_id", "id"])
    db["datasets"].create_index(["project_id", "name", "version"], unique=True)
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def _v3_embeddings(db: sqlite_utils.Database) -> None:
    db["embeddings"].create({"content_hash": str, "model": str, "dim": int, "vector": bytes},
                            pk=("content_hash", "model"), not_null={"dim", "vector"})


def _v4_evaluation(db: sqlite_utils.Database) -> None:
    # No foreign keys: rows are keyed by run id and go with their project's runs.
    db["eval_outputs"].create({"id": int, "run_id": int, "item": int, "side": str,
                               "prompt": str, "reference": str, "output": str, "grp": str,
                               "scores": str}, pk="id", not_null={"run_id", "item", "side"})
    db["eval_outputs"].create_index(["run_id", "item", "side"], unique=True)
    db["reviews"].create({"id": int, "run_id": int, "item": int, "side": str, "rating": int,
                          "correction": str, "reviewer": str, "blind": int, "preferred": int,
                          "created_at": str}, pk="id",
                         not_null={"run_id", "item", "side", "rating", "reviewer"})
    db["reviews"].create_index(["run_id", "item"])


def _v5_dataset_roles(db: sqlite_utils.Database) -> None:
    """Each version's role (pool, train, test, pairs) and its held-out partner, stored
    explicitly; existing versions get theirs from kind, recipe and lineage."""
    db.execute("ALTER TABLE datasets ADD COLUMN role TEXT")
    db.execute("ALTER TABLE datasets ADD COLUMN test_id INTEGER REFERENCES datasets(id)")
    rows = {row["id"]: row for row in db["datasets"].rows}
    roles = {dataset_id: legacy_role(row) for dataset_id, row in rows.items()}
    partners: dict[int, int] = {}
    for dataset_id, row in sorted(rows.items()):
        partners_of = _legacy_partner(row, rows, roles, partners)
        if partners_of is not None:
            partners[dataset_id] = partners_of
    for dataset_id, role in roles.items():
        db.execute("UPDATE datasets SET role = ?, test_id = ? WHERE id = ?",
                   [role, partners.get(dataset_id), dataset_id])
    db["datasets"].create_index(["project_id", "role"])


def legacy_role(row: dict) -> str:
    """The role of a version written before roles were stored, from its kind and recipe."""
    recipe = json.loads(row.get("recipe") or "{}")
    if row["kind"] == "import":
        return "pool"
    if row["kind"] == "preferences":
        return "pairs"
    if row["kind"] == "split":
        return "test" if recipe.get("part") == "test" else "train"
    if row["kind"] == "clean" and recipe.get("steps") == "normalise and redaction only":
        return "test"
    return "train"


def _legacy_partner(row: dict, rows: dict, roles: dict, partners: dict) -> int | None:
    if roles[row["id"]] != "train" or row["parent_id"] not in rows:
        return None
    parent = rows[row["parent_id"]]
    if row["kind"] == "split":
        tests = [i for i, r in rows.items() if r["parent_id"] == parent["id"] and roles[i] == "test"]
        return tests[-1] if tests else None
    parent_test = partners.get(parent["id"])
    if row["kind"] == "clean" and parent_test is not None:
        cleaned = [i for i, r in rows.items() if r["parent_id"] == parent_test
                   and roles[i] == "test" and r["job_id"] == row["job_id"]]
        return cleaned[-1] if cleaned else parent_test
    return parent_test


def _v6_building_versions(db: sqlite_utils.Database) -> None:
    """A version is written in committed batches while "building" (invisible to readers)
    and becomes "published" in one short transaction at the end."""
    db.execute("ALTER TABLE datasets ADD COLUMN state TEXT NOT NULL DEFAULT 'published'")
    db["datasets"].create_index(["state"])


def _v7_record_search(db: sqlite_utils.Database) -> None:
    """Full-text search over records (FTS5, external content: the text lives once, in
    ``records``), kept in step by triggers when versions are written or discarded. Only the
    text values are indexed (no JSON keys, no chat roles); an index on (dataset_id, line)
    finds a cleaned record's source record."""
    text = ("(SELECT group_concat(value, ' ') FROM json_tree({row}.data) "
            "WHERE type = 'text' AND key IS NOT 'role')")
    db.execute("CREATE VIRTUAL TABLE records_fts USING fts5(data, content='records', "
               "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE TRIGGER records_fts_insert AFTER INSERT ON records BEGIN "
               "INSERT INTO records_fts (rowid, data) VALUES (new.id, "
               f"{text.format(row='new')}); END")
    db.execute("CREATE TRIGGER records_fts_delete AFTER DELETE ON records BEGIN "
               "INSERT INTO records_fts (records_fts, rowid, data) VALUES ('delete', old.id, "
               f"{text.format(row='old')}); END")
    db.execute("CREATE TRIGGER records_fts_update AFTER UPDATE OF data ON records BEGIN "
               "INSERT INTO records_fts (records_fts, rowid, data) VALUES ('delete', old.id, "
               f"{text.format(row='old')}); INSERT INTO records_fts (rowid, data) VALUES "
               f"(new.id, {text.format(row='new')}); END")
    db.execute(f"INSERT INTO records_fts (rowid, data) SELECT id, {text.format(row='records')} "
               "FROM records")
    db["records"].create_index(["dataset_id", "line"])


def _v8_audit_chain(db: sqlite_utils.Database) -> None:
    """Tamper-evident audit: each row gets the machine, the hash of the row before it and
    its own hash (rows already there are chained in id order), and ``audit_head`` keeps
    the newest row's id and hash."""
    for column in ("host", "prev_hash", "row_hash"):
        db.execute(f"ALTER TABLE audit_log ADD COLUMN {column} TEXT")
    db.execute("CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), "
               "last_id INTEGER NOT NULL, last_hash TEXT NOT NULL)")
    db.execute("DROP TRIGGER audit_log_no_update")
    prev, last_id = audit.GENESIS, 0
    for row in list(db["audit_log"].rows_where(order_by="id")):
        row["host"] = row.get("host") or audit.host()
        digest = audit.row_hash(row, prev)
        db.execute("UPDATE audit_log SET host = ?, prev_hash = ?, row_hash = ? WHERE id = ?",
                   [row["host"], prev, digest, row["id"]])
        prev, last_id = digest, row["id"]
    if last_id:
        db.execute("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, ?, ?)",
                   [last_id, prev])
    db.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    db.execute("CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
               "BEGIN SELECT RAISE(ABORT, 'audit_head is kept'); END")


def _v9_redaction_policy(db: sqlite_utils.Database) -> None:
    """Each project's redaction policy (clinical, legal, general, off); projects made
    before it keep what they had: every identifier type (clinical)."""
    db.execute("ALTER TABLE projects ADD COLUMN redaction_policy TEXT NOT NULL "
               "DEFAULT 'clinical'")


def _v10_search_index_by_batch(db: sqlite_utils.Database) -> None:
    """Records written into a building version are indexed for search by their writer, a
    batch at a time in the batch's own transaction (one statement per batch is cheaper
    than a trigger per record); the insert trigger indexes the others. Deletes and
    updates stay with their triggers."""
    db.execute("DROP TRIGGER records_fts_insert")
    db.execute("CREATE TRIGGER records_fts_insert AFTER INSERT ON records "
               "WHEN (SELECT state FROM datasets WHERE id = new.dataset_id) IS NOT 'building' "
               "BEGIN INSERT INTO records_fts (rowid, data) VALUES (new.id, "
               f"{record_search.INDEXED_TEXT.format(row='new')}); END")


MIGRATIONS: list[Migration] = [_v1_core_tables, _v2_indexes_and_append_only_audit,
                               _v3_embeddings, _v4_evaluation, _v5_dataset_roles,
                               _v6_building_versions, _v7_record_search, _v8_audit_chain,
                               _v9_redaction_policy, _v10_search_index_by_batch]
LATEST = len(MIGRATIONS)


def version(db: sqlite_utils.Database) -> int:
    """The schema version stored in the file."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database, path: Path | None = None,
            target: int = LATEST) -> int:
    """Apply the pending migrations up to ``target``, each in its own transaction.

    Returns:
        The schema version after migrating.

    Raises:
        RuntimeError: if the file was written by a newer Enclave.
    """
    current = version(db)
    if current > LATEST:
        raise RuntimeError(
            f"This workspace has schema version {current}, newer than this Enclave "
            f"understands ({LATEST}). Update Enclave; nothing was changed."
        )
    if current < target and current > 0 and path is not None and Path(path).exists():
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy2(path, f"{path}.bak-v{current}")
    for number in range(current + 1, target + 1):
        with transaction(db):
            MIGRATIONS[number - 1](db)
            db.execute(f"PRAGMA user_version = {number}")
    return version(db)
