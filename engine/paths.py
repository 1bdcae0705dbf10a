"""Where Enclave keeps its workspace: ``ENCLAVE_HOME`` or the user data dir."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

from engine import fsutil


def home() -> Path:
    """The workspace folder, created on first use, owner-only (0700), like everything
    Enclave creates from then on."""
    fsutil.owner_only()
    root = os.environ.get("ENCLAVE_HOME") or user_data_dir("enclave", appauthor=False)
    path = Path(root).expanduser()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def workspace_db() -> Path:
    """The one SQLite workspace file."""
    return home() / "workspace.sqlite3"


def models_dir() -> Path:
    """Cache of converted and imported models (``ENCLAVE_MODELS_DIR`` overrides it,
    so that several workspaces can share one converted copy)."""
    override = os.environ.get("ENCLAVE_MODELS_DIR")
    path = Path(override).expanduser() if override else home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def project_dir(project_id: int) -> Path:
    """Files of one project (adapters, merged models, embeddings)."""
    path = home() / "projects" / str(project_id)
    path.mkdir(parents=True, exist_ok=True)
    return path
