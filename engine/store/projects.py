"""Projects: create, list, rename, delete (with everything they own)."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import sqlite_utils

from engine import paths
from engine.store import audit, embeddings
from engine.store.transactions import transaction


class ProjectError(ValueError):
    """A project request that cannot be honoured (duplicate or missing name)."""


MAX_NAME = 100
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


def check_name(name: str) -> str:
    """A project name as stored: stripped, 1-100 printable characters.

    Control, format and private characters (Unicode categories C*), line and
    paragraph separators and the bidirectional overrides and isolates (which make
    a listing show text in another order than it is stored) are refused.

    Args:
        name: The name as typed.

    Returns:
        The name without surrounding white space.

    Raises:
        ProjectError: Saying what is wrong with the name.
    """
    if not isinstance(name, str):
        raise ProjectError("A project name must be text.")
    name = name.strip()
    if not name:
        raise ProjectError("A project needs a name.")
    if len(name) > MAX_NAME:
        raise ProjectError(f"A project name holds at most {MAX_NAME} characters; this one has "
                           f"{len(name)}.")
    for position, char in enumerate(name, 1):
        if char in _BIDI_CONTROLS or unicodedata.category(char)[0] == "C" \
                or unicodedata.category(char) in ("Zl", "Zp"):
            kind = "a text-direction control" if char in _BIDI_CONTROLS else "a control or " \
                "invisible character"
            raise ProjectError(f"A project name may hold printable characters only; character "
                               f"{position} is {kind} (U+{ord(char):04X}).")
    return name


def create(db: sqlite_utils.Database, name: str, description: str = "",
           task: str = "instruction") -> int:
    """Create a project and return its id.

    Raises:
        ProjectError: if the name is empty, not printable, too long or already taken.
    """
    name = check_name(name)
    if db["projects"].count_where("name = ?", [name]):
        raise ProjectError(f"A project named '{name}' already exists.")
    with transaction(db):
        pid = db["projects"].insert({"name": name, "description": description,
                                     "task": task, "created_at": audit.now()}).last_pk
        audit.record(db, "project.create", f"project:{pid}", name=name)
    return pid


def rename(db: sqlite_utils.Database, project_id: int, name: str) -> str:
    """Give a project a new name and return it as stored.

    Raises:
        ProjectError: if the project does not exist, or the name is refused or taken.
    """
    project = get(db, project_id)
    name = check_name(name)
    if db["projects"].count_where("name = ? AND id != ?", [name, project_id]):
        raise ProjectError(f"A project named '{name}' already exists.")
    with transaction(db):
        db["projects"].update(project_id, {"name": name})
        audit.record(db, "project.rename", f"project:{project_id}", old=project["name"], name=name)
    return name


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


CACHE_ARTIFACTS = ("embeddings", "selection-map")  # files derived from the data, kept for speed


def delete(db: sqlite_utils.Database, project_id: int) -> None:
    """Delete a project, all rows it owns and its cached embeddings, in one transaction.

    Cached vectors and scores of texts that no other project's records have are
    dropped with the rows; afterwards the project's cache files (embedding
    arrays, selection maps) and its folder in the workspace (runs, models, the
    demo's copy of its raw export) are removed. Nothing outside the workspace is
    touched: exports the user wrote elsewhere stay, and links are removed, not followed.

    Raises:
        ProjectError: if it does not exist or still has a running job.
    """

    project = get(db, project_id)
    if db["jobs"].count_where("project_id = ? AND state IN ('queued','running')",
                              [project_id]):
        raise ProjectError(f"Project '{project['name']}' has a running job; cancel it first.")
    cache_files = [Path(row["path"]) for row in db["artifacts"].rows_where(
        "project_id = ? AND kind IN (?, ?)", [project_id, *CACHE_ARTIFACTS])]
    with transaction(db):
        pruned = embeddings.prune_project(db, project_id)
        db.execute("UPDATE datasets SET parent_id = NULL WHERE project_id = ?", [project_id])
        for table, where in _OWNED:
            db.execute(f"DELETE FROM {table} WHERE {where}", [project_id])
        db.execute("DELETE FROM projects WHERE id = ?", [project_id])
        audit.record(db, "project.delete", f"project:{project_id}", name=project["name"],
                     cached_rows_dropped=pruned)
    _remove_files(cache_files)
    _remove_project_folder(project_id)


def _inside_workspace(path: Path) -> bool:

    return path.resolve().is_relative_to(paths.home().resolve())


def _remove_files(files: list[Path]) -> None:
    for path in files:
        if path.is_symlink():
            path.unlink()
        elif not _inside_workspace(path):
            continue
        elif path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _remove_project_folder(project_id: int) -> None:
    """Remove ``<workspace>/projects/<id>`` (a link there is unlinked, never followed)."""

    folder = paths.home() / "projects" / str(project_id)
    if folder.is_symlink():
        folder.unlink()
    elif folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
