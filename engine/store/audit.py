"""Append-only audit log: who did what to which object, and how it ended."""

from __future__ import annotations

import getpass
import json
from datetime import datetime, timezone

import sqlite_utils


def now() -> str:
    """UTC time as ISO 8601, the format of every time column."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def actor() -> str:
    """The operating-system user running Enclave."""
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def record(db: sqlite_utils.Database, action: str, obj: str, outcome: str = "ok",
           **detail: object) -> None:
    """Append one audit row (never updated or deleted: a trigger forbids it)."""
    db["audit_log"].insert({"time": now(), "actor": actor(), "action": action,
                            "object": obj, "outcome": outcome,
                            "detail": json.dumps(detail, default=str)})


def entries(db: sqlite_utils.Database, limit: int = 200) -> list[dict]:
    """The newest audit rows first."""
    return list(db["audit_log"].rows_where(order_by="id desc", limit=limit))
