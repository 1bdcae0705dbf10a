"""Projects: create, list, rename, delete (with everything they own)."""

from __future__ import annotations

import sqlite_utils

from engine.store import audit
from engine.store.transactions import transaction


class ProjectError(ValueError):
    """A project request that cannot be honoured (duplicate or missing name)."""


def create(db: sqlite_utils.Database, name: str, description: str = "",
           task: str = "instruction") -> int:
    """Create a project and return its id.

    Raises:
        ProjectError: if the name is empty or already taken.
    """
    name = name.strip()
    if not name:
        raise ProjectError("A project needs a name.")
    if db["projects"].count_where("name = ?", [name]):
        raise ProjectError(f"A project named '{name}' already exists.")
    with transaction(db):
        pid = db["projects"].insert({"name": name, "description": description,
                                     "task": task, "created_at": audit.now()}).last_pk
        audit.record(db, "project.create", f"project:{pid}", name=name)
    return pid


def get(db: sqlite_utils.Database, project_id: int) -> dict:
    """One project row.

    Raises:
        ProjectError: if it does not exist.
    """
    rows = list(db["projects"].rows_where("id = ?", [project_id]))
    if not rows:
        raise ProjectError(f"Project {project_id} does not exist.")
    return rows[0]


def find(db: sqlite_utils.Database, name: str) -> dict | None:
    """The project with this name, or None."""
    rows = list(db["projects"].rows_where("name = ?", [name]))
    return rows[0] if rows else None


def list_all(db: sqlite_utils.Database) -> list[dict]:
    """All projects, newest first."""
    return list(db["projects"].rows_where(order_by="id desc"))


_OWNED = [  # (table, where clause selecting the rows a project owns), children first
    ("metrics", "run_id IN (SELECT id FROM runs WHERE project_id = ?)"),
    ("eval_outputs", "run_id IN (SELECT id FROM runs WHERE project_id = ?)"),
    ("reviews", "run_id IN (SELECT id FROM runs WHERE project_id = ?)"),
    ("artifacts", "project_id = ?"),
    ("runs", "project_id = ?"),
    ("records", "dataset_id IN (SELECT id FROM datasets WHERE project_id = ?)"),
    ("quarantine", "dataset_id IN (SELECT id FROM datasets WHERE project_id = ?)"),
    ("datasets", "project_id = ?"),
    ("job_events", "job_id IN (SELECT id FROM jobs WHERE project_id = ?)"),
    ("jobs", "project_id = ?"),
]


def delete(db: sqlite_utils.Database, project_id: int) -> None:
    """Delete a project and all rows it owns, in one transaction.

    Raises:
        ProjectError: if it does not exist or still has a running job.
    """
    project = get(db, project_id)
    if db["jobs"].count_where("project_id = ? AND state IN ('queued','running')",
                              [project_id]):
        raise ProjectError(f"Project '{project['name']}' has a running job; cancel it first.")
    with transaction(db):
        db.execute("UPDATE datasets SET parent_id = NULL WHERE project_id = ?", [project_id])
        for table, where in _OWNED:
            db.execute(f"DELETE FROM {table} WHERE {where}", [project_id])
        db.execute("DELETE FROM projects WHERE id = ?", [project_id])
        audit.record(db, "project.delete", f"project:{project_id}", name=project["name"])
