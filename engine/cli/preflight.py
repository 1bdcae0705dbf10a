"""The checks every training command runs before a job starts: recipe values against the
model (sequence limit, QLoRA support) and the memory estimate."""

from __future__ import annotations

from typing import Any

from engine.cli.errors import CommandError
from engine.models.registry import ModelRefused
from engine.train import preflight
from engine.train.job import resolve_base


def preflight_or_error(base: str, recipe: Any) -> Any:
    """The preflight report of training ``base`` with ``recipe``.

    Raises:
        CommandError: naming the setting or the model problem.
    """

    try:
        return preflight.check(resolve_base(base), recipe)
    except (ValueError, ModelRefused) as exc:
        raise CommandError(str(exc)) from exc
