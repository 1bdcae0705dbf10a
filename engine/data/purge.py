"""Purge raw data after a redacting clean: the unredacted versions and quarantined payloads.

The versions a redacting clean read (its input, the held-out split it cleaned, and the
versions those came from) lose their records; their rows stay with their record count
and content hash, marked ``purged`` (no reader shows them). Quarantined lines keep file,
line, field and reason, and lose the raw line. The workspace then overwrites what was
deleted (``secure_delete``), rebuilds the search index from what is left, vacuums and
truncates its WAL, so that no page of the file still holds the raw text.
"""

from __future__ import annotations

import json

import sqlite_utils

from engine.data.privacy import REDACTING_MODES, redaction_mode
from engine.store import audit
from engine.store.transactions import transaction

PURGED = "purged"


class PurgeRefused(ValueError):
    """The project has nothing a purge may remove; nothing was changed."""


def raw_versions(db: sqlite_utils.Database, project_id: int) -> list[int]:
    """Ids of the versions that redacting cleans of the project read, and their ancestors."""
    rows = {row["id"]: row for row in db["datasets"].rows_where("project_id = ?", [project_id])}
    redacted = [dataset_id for dataset_id, row in rows.items() if row["kind"] == "clean"
                and json.loads(row["recipe"] or "{}").get("clean", {}).get("redaction")
                in REDACTING_MODES]
    raw: set[int] = set()
    for dataset_id in redacted:
        parent = rows[dataset_id]["parent_id"]
        while parent is not None and parent in rows and parent not in redacted:
            raw.add(parent)
            parent = rows[parent]["parent_id"]
    return sorted(dataset_id for dataset_id in raw if rows[dataset_id]["state"] != PURGED)


def purge_raw(db: sqlite_utils.Database, project_id: int) -> dict:
    """Remove the project's unredacted records and quarantined raw lines for good.

    Returns:
        ``versions`` purged, ``records`` and ``quarantined`` lines removed.

    Raises:
        PurgeRefused: when no redacting clean has run in the project.
    """
    if redaction_mode(db, project_id) is None:
        raise PurgeRefused("Nothing was purged: the project's newest clean did not redact "
                           "(run a redacting clean first, so that the data stays usable).")
    versions = raw_versions(db, project_id)
    quarantined = _quarantined(db, project_id)
    if not versions and not quarantined:
        raise PurgeRefused("Nothing to purge: the unredacted versions behind the redacting "
                           "clean are gone already.")
    db.execute("PRAGMA secure_delete = ON")
    records = 0
    with transaction(db):
        for dataset_id in versions:
            records += db.execute("DELETE FROM records WHERE dataset_id = ?",
                                  [dataset_id]).rowcount
            db.execute("UPDATE datasets SET state = ? WHERE id = ?", [PURGED, dataset_id])
        db.execute("UPDATE quarantine SET raw = NULL WHERE raw IS NOT NULL AND dataset_id IN "
                   "(SELECT id FROM datasets WHERE project_id = ?)", [project_id])
        audit.record(db, "data.purge_raw", f"project:{project_id}", versions=versions,
                     records=records, quarantined=quarantined)
    _scrub(db)
    return {"project_id": project_id, "versions": versions, "records": records,
            "quarantined": quarantined}


def _quarantined(db: sqlite_utils.Database, project_id: int) -> int:
    return db.execute("SELECT count(*) FROM quarantine WHERE raw IS NOT NULL AND dataset_id IN "
                      "(SELECT id FROM datasets WHERE project_id = ?)", [project_id]).fetchone()[0]


def _scrub(db: sqlite_utils.Database) -> None:
    """Leave no copy of deleted text in the search index, free pages or the WAL."""
    if db["records_fts"].exists():
        db.execute("INSERT INTO records_fts (records_fts) VALUES ('rebuild')")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
