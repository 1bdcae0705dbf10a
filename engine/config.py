"""The base every recipe shares: fields with help and allowed values, dict and TOML in and
out, unknown keys refused with the closest known name, and a version stamp.

A recipe is a dataclass that subclasses :class:`Recipe`; each field is made with
:func:`option`, whose metadata the window's forms and the command line read:

- ``help``: one line in plain words; ``label``: the form's label (default: the name);
- ``choices``: the allowed values; ``min`` / ``max``: inclusive bounds, or exclusive with
  ``min_open`` / ``max_open``; ``expert``: shown only under "Details".

Checks across fields go in :meth:`Recipe.check`. Every problem is a :class:`RecipeError`
naming the file or source and the field.
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from dataclasses import MISSING, Field, asdict, field, fields
from pathlib import Path
from typing import Any, ClassVar

VERSION_KEY = "recipe_version"


class RecipeError(ValueError):
    """A recipe value that cannot be used; the message names the source and the field."""


def option(default: Any = MISSING, help: str = "", *, choices: tuple | None = None,
           min: float | None = None, max: float | None = None, min_open: bool = False,
           max_open: bool = False, label: str | None = None, expert: bool = False,
           default_factory: Any = MISSING) -> Any:
    """A recipe field with its help, allowed values and form hints as metadata."""
    metadata: dict[str, Any] = {"help": help, "expert": expert}
    for key, value in (("choices", choices), ("min", min), ("max", max), ("label", label)):
        if value is not None:
            metadata[key] = tuple(value) if key == "choices" else value
    if min_open:
        metadata["min_open"] = True
    if max_open:
        metadata["max_open"] = True
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def closest(name: str, known: list[str]) -> str:
    """' (did you mean X?)' for the known name closest to ``name``, or ''."""
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


class Recipe:
    """Mixin of every recipe dataclass.

    Class attributes:
        SECTION: the TOML table that holds the recipe (``[train]``, ``[clean]`` …).
        VERSION: bumped when a field changes meaning; newer files are refused.
        LEGACY: names older recipes used that are now ignored (so stored runs still load).
        error: the error type raised (a :class:`RecipeError` subclass).
    """

    SECTION: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    LEGACY: ClassVar[frozenset[str]] = frozenset()
    error: ClassVar[type[RecipeError]] = RecipeError

    def __post_init__(self) -> None:
        for item in fields(self):
            self._check_field(item)
        try:
            self.check()
        except RecipeError:
            raise
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def check(self) -> None:
        """Checks across fields; raise ``ValueError`` naming the fields."""

    def _check_field(self, item: Field) -> None:
        value, meta = getattr(self, item.name), item.metadata
        value = _typed(item.name, value, _field_types(type(self))[item.name], self.error)
        object.__setattr__(self, item.name, value)
        if value is None:
            return
        choices = meta.get("choices")
        if choices and value not in choices:
            raise self.error(f"{item.name} must be one of {', '.join(map(str, choices))}, "
                             f"got {value!r}")
        low, high = meta.get("min"), meta.get("max")
        if low is not None and (value < low or (meta.get("min_open") and value == low)):
            sign = ">" if meta.get("min_open") else ">="
            raise self.error(f"{item.name} must be {sign} {low}, got {value!r}")
        if high is not None and (value > high or (meta.get("max_open") and value == high)):
            sign = "<" if meta.get("max_open") else "<="
            raise self.error(f"{item.name} must be {sign} {high}, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain values (stored with every run)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "recipe"):
        """Build a recipe from plain values.

        Raises:
            RecipeError: naming ``where`` and the field for an unknown key (with the closest
                known name), a wrong type, a value out of range or a newer version.
        """
        values = dict(values)
        stamp = values.pop(VERSION_KEY, cls.VERSION)
        if not isinstance(stamp, int) or stamp > cls.VERSION:
            raise cls.error(f"{where}: {VERSION_KEY} {stamp!r} is newer than this Enclave "
                            f"understands ({cls.VERSION}); update Enclave")
        known = [item.name for item in fields(cls)]
        for key in values:
            if key not in known and key not in cls.LEGACY:
                raise cls.error(f"{where}: unknown field '{key}'{closest(key, known)}")
        try:
            return cls(**{key: value for key, value in values.items() if key in known})
        except (TypeError, ValueError) as exc:
            raise cls.error(f"{where}: {exc}") from exc

    @classmethod
    def from_toml(cls, path: str | Path) -> tuple[Any, dict[str, Any]]:
        """Read the recipe from a TOML file: its ``[SECTION]`` table, or its fields at the
        top level. Returns the recipe and the file's other top-level keys."""
        values, rest = read_table(path, cls)
        return cls.from_dict(values, where=f"{path} [{cls.SECTION}]"), rest

    def to_toml(self, extra: dict[str, Any] | None = None) -> str:
        """The recipe as TOML: ``extra`` keys and the version first, then its table."""
        lines = [f"{key} = {_toml_value(value)}" for key, value in (extra or {}).items()
                 if value is not None]
        lines += [f"{VERSION_KEY} = {self.VERSION}", "", f"[{self.SECTION}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in self.to_dict().items()
                  if value is not None]
        return "\n".join(lines) + "\n"

    @classmethod
    def help_for(cls, name: str) -> str:
        """The help line of one field."""
        return next(item.metadata.get("help", "") for item in fields(cls) if item.name == name)


def read_table(path: str | Path, recipe: type) -> tuple[dict, dict]:
    """The ``[recipe.SECTION]`` table of a TOML file (or the recipe's fields at its top
    level) and the file's other keys.

    Raises:
        RecipeError: naming the file (and line for syntax errors).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise recipe.error(f"{path}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise recipe.error(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") \
            from None
    stamp = data.pop(VERSION_KEY, None)
    values = data.pop(recipe.SECTION, None)
    if values is None:
        names = {item.name for item in fields(recipe)}
        values = {key: data.pop(key) for key in list(data) if key in names}
    if stamp is not None:
        values = {**values, VERSION_KEY: stamp}
    return values, data


def _field_types(recipe: type) -> dict[str, Any]:
    cached = recipe.__dict__.get("_enclave_types")
    if cached is None:
        cached = typing.get_type_hints(recipe)
        recipe._enclave_types = cached
    return cached


def _typed(name: str, value: Any, kind: Any, error: type[RecipeError]) -> Any:
    """``value`` as the field's type: ints may stand for floats; anything else must match."""
    allowed = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    if value is None and type(None) in allowed:
        return None
    for want in allowed:
        if want is bool and isinstance(value, bool):
            return value
        if want is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if want is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if want is str and isinstance(value, str):
            return value
        if want in (Any, object):
            return value
        container = typing.get_origin(want) or want
        if container in (dict, list, tuple) and isinstance(value, container):
            return value
    names = " or ".join("none" if want is type(None) else getattr(want, "__name__", str(want))
                        for want in allowed)
    raise error(f"{name} must be {names}, got {value!r}")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
