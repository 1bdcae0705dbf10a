"""Append-only, tamper-evident audit log: who did what to which object, where, and how it ended.

Each row carries the OS user (``actor``), the machine (``host``), the hash of the row
before it (``prev_hash``) and the hash of its own content chained to it (``row_hash``).
A trigger forbids UPDATE and DELETE; whoever edits the file behind Enclave's back breaks
the chain, and :func:`verify` says where. The newest row's id and hash are also kept in
``audit_head``, so that removing rows at the end is found as well.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from engine.store.transactions import read_snapshot, transaction

GENESIS = "0" * 64
CONTENT = ("id", "time", "actor", "host", "action", "object", "outcome", "detail")
CSV_COLUMNS = (*CONTENT, "prev_hash", "row_hash")


def now() -> str:
    """UTC time as ISO 8601, the format of every time column."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def actor() -> str:
    """The operating-system user running Enclave."""
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def host() -> str:
    """The machine's name."""
    return socket.gethostname() or "unknown"


def row_hash(row: dict, prev_hash: str) -> str:
    """The hash of one row's content chained to the hash of the row before it."""
    content = json.dumps([row.get(name) for name in CONTENT], ensure_ascii=False)
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def record(db: sqlite_utils.Database, action: str, obj: str, outcome: str = "ok",
           **detail: object) -> None:
    """Append one audit row, chained to the one before (never updated or deleted).

    A workspace not yet upgraded to the chained log (a migration writing through current
    code) gets a plain row; the upgrade chains it.
    """
    if "row_hash" not in db["audit_log"].columns_dict:
        db["audit_log"].insert({"time": now(), "actor": actor(), "action": action,
                                "object": obj, "outcome": outcome,
                                "detail": json.dumps(detail, default=str)})
        return
    with transaction(db):
        last = db.execute("SELECT id, row_hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        prev = last[1] if last and last[1] else GENESIS
        row = {"id": (last[0] if last else 0) + 1, "time": now(), "actor": actor(),
               "host": host(), "action": action, "object": obj, "outcome": outcome,
               "detail": json.dumps(detail, default=str)}
        row["prev_hash"] = prev
        row["row_hash"] = row_hash(row, prev)
        db["audit_log"].insert(row)
        db.execute("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, ?, ?) "
                   "ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, "
                   "last_hash = excluded.last_hash", [row["id"], row["row_hash"]])


def entries(db: sqlite_utils.Database, limit: int = 200, *, project: str | None = None,
            user: str | None = None, action: str | None = None) -> list[dict]:
    """The newest audit rows first, optionally only one project's, user's or action's.

    Args:
        project: a project id; rows about it or about one of its datasets, jobs or runs.
        user: an OS user name.
        action: an action, or its prefix (``dataset`` matches ``dataset.create``).
    """
    where, args = [], []
    if user:
        where.append("actor = ?")
        args.append(user)
    if action:
        where.append("(action = ? OR action LIKE ?)")
        args += [action, action + ".%"]
    if project:
        where.append(_PROJECT_ROWS)
        args += [int(project)] * 5
    return list(db["audit_log"].rows_where(" AND ".join(where) or None, args,
                                           order_by="id desc", limit=limit))


def detail(row: dict) -> dict:
    """The decoded detail of an audit row."""
    return json.loads(row.get("detail") or "{}")


def to_csv(rows: list[dict], out: Path) -> None:
    """Write audit rows (with their hashes, so the copy can be checked) as CSV."""
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


_PROJECT_ROWS = (
    "(object = 'project:' || ? "
    "OR object IN (SELECT 'dataset:' || id FROM datasets WHERE project_id = ?) "
    "OR object IN (SELECT 'job:' || id FROM jobs WHERE project_id = ?) "
    "OR object IN (SELECT 'run:' || id FROM runs WHERE project_id = ?) "
    "OR json_extract(detail, '$.project_id') = ?)")


@dataclass(frozen=True)
class Break:
    """One place where the chain does not hold."""

    row_id: int | None
    problem: str


def verify(db: sqlite_utils.Database) -> list[Break]:
    """Walk the chain from the first row; an empty list means it is intact (see
    :func:`check`)."""
    return check(db)[0]


def check(db: sqlite_utils.Database) -> tuple[list[Break], int]:
    """The breaks in the chain and the number of rows checked.

    Finds edited rows (content no longer matches its hash), inserted rows (hash or link
    wrong, or an id out of sequence), deleted rows (a gap, or a link to a missing row)
    and rows removed from the end (the head no longer matches the last row). The rows and
    the head are read from one snapshot, so rows written while the check runs (by the
    window or a job) are neither checked nor taken for tampering.
    """
    with read_snapshot(db):
        rows = db.execute(f"SELECT {', '.join(CONTENT)}, prev_hash, row_hash FROM audit_log "
                          "ORDER BY id").fetchall()
        head = db.execute("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetchone()
    breaks: list[Break] = []
    prev, expected_id = GENESIS, 1
    for row in rows:
        item = dict(zip((*CONTENT, "prev_hash", "row_hash"), row))
        if item["id"] != expected_id:
            breaks.append(Break(item["id"], f"rows {expected_id}–{item['id'] - 1} are missing"))
        if item["prev_hash"] != prev:
            breaks.append(Break(item["id"], "does not link to the row before it "
                                "(a row was inserted or removed here)"))
        if item["row_hash"] != row_hash(item, item["prev_hash"] or ""):
            breaks.append(Break(item["id"], "its content was changed after it was written"))
        prev, expected_id = item["row_hash"], item["id"] + 1
    if head and (head[0] != expected_id - 1 or head[1] != prev):
        breaks.append(Break(head[0], f"the log should end at row {head[0]} but ends at row "
                                     f"{expected_id - 1} (rows were removed or added at the end)"))
    return breaks, len(rows)
