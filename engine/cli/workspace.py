"""The workspace and project lookups every command shares."""

from __future__ import annotations

from engine import paths
from engine.cli.errors import CommandError
from engine.store import StoreCorrupted, open_store, projects


def open_workspace():
    """The workspace store, or a CommandError that says why it cannot be opened."""

    try:
        return open_store(paths.workspace_db())
    except StoreCorrupted as exc:
        raise CommandError(str(exc), exit_code=2) from exc


def find_project(db, name: str) -> dict:
    """The project named ``name`` (or with that id).

    Raises:
        CommandError: naming the project and how to create one.
    """

    row = projects.find(db, name)
    if row is None and str(name).isdigit():
        row = next((p for p in projects.list_all(db) if p["id"] == int(name)), None)
    if row is None:
        raise CommandError(f"No project named '{name}'. Create it with "
                           "'enclave create-project NAME' (see 'enclave projects').")
    return row
