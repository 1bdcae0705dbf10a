"""Versions of the libraries a stage's result depends on, recorded with the result."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

SELECT_PACKAGES = ("numpy", "scikit-learn", "scipy", "torch", "transformers")
TRAIN_PACKAGES = ("torch", "transformers", "peft")


def library_versions(packages: tuple[str, ...] = TRAIN_PACKAGES) -> dict[str, str]:
    """``{package: version}`` of the installed ``packages`` (missing ones left out).

    Read from the installed distributions' metadata, so nothing heavy is imported.
    """
    found = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found
