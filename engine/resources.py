"""Enclave's packaged data files (``resources/``, installed as ``enclave_resources``).

Everything is read through :func:`importlib.resources.files`, so it works from a
source checkout, an editable install and an installed wheel alike.
"""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

PACKAGE = "enclave_resources"
ICON_SIZES = (16, 32, 48, 64, 128, 256)


class ResourceMissing(FileNotFoundError):
    """A data file that ships with Enclave is absent: the installation is incomplete."""


def resource(*parts: str) -> Traversable:
    """One packaged file, e.g. ``resource("styles", "light.qss")``.

    Raises:
        ResourceMissing: if the file is not part of this installation.
    """
    item = files(PACKAGE).joinpath(*parts)
    if not item.is_file():
        raise ResourceMissing(f"{'/'.join(parts)} is missing from {PACKAGE}: "
                              "reinstall Enclave from its bundle or wheel.")
    return item


def read_text(*parts: str) -> str:
    """The text of one packaged file (UTF-8)."""
    return resource(*parts).read_text(encoding="utf-8")


def read_bytes(*parts: str) -> bytes:
    """The bytes of one packaged file."""
    return resource(*parts).read_bytes()


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value


@lru_cache(maxsize=None)
def demo_terms(name: str) -> dict[str, Any]:
    """A demo generator's term table (``resources/demo/<name>.json``), lists as tuples.

    Args:
        name: ``"clinical_terms"``, ``"common_terms"`` or ``"legal_terms"``.
    """
    return _frozen(json.loads(read_text("demo", f"{name}.json")))


def recipe_names() -> list[str]:
    """The default recipes users can copy and edit (file names without ``.toml``)."""
    folder = files(PACKAGE).joinpath("recipes")
    return sorted(item.name[:-5] for item in folder.iterdir() if item.name.endswith(".toml"))


def recipe_text(name: str) -> str:
    """The TOML text of one default recipe."""
    return read_text("recipes", f"{name}.toml")


def recipe(name: str) -> dict[str, Any]:
    """One default recipe, parsed."""
    return tomllib.loads(recipe_text(name))


def icon_png(size: int = 256) -> bytes:
    """The app icon as PNG bytes at one of :data:`ICON_SIZES`."""
    return read_bytes("icons", f"enclave-{size}.png")
