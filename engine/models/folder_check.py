"""Checks that keep a hostile model folder from reaching a model library.

A folder is refused when a link in it leads outside it (``tokenizer.json`` pointing at a
system file), when it holds anything but folders and regular files (a named pipe would
make a reader wait forever), when a JSON file nests without bound or carries a number no
parser will convert, and when a safetensors header does not describe its own file: every
entry needs a known dtype, a shape of non-negative integers and ``data_offsets`` inside
the file that hold exactly the bytes the shape and dtype call for, without overlap.
Nothing here imports torch; every problem is a :class:`FolderProblem` naming the file
(and the entry) at fault.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
from pathlib import Path
from typing import Any

MAX_HEADER_BYTES = 100_000_000
MAX_JSON_BYTES = 64 * 1024 * 1024
ITEM_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
              "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


class FolderProblem(ValueError):
    """What is wrong with one file of a model folder (the message names it)."""


def check_files(folder: Path) -> None:
    """Refuse links that leave the folder and anything but folders and regular files.

    Args:
        folder: The model folder (resolved).

    Raises:
        FolderProblem: Naming the first offending path, relative to the folder.
    """
    root = Path(folder).resolve()
    for parent, folders, files in os.walk(root, followlinks=False):
        for name in folders + files:
            path = Path(parent) / name
            shown = path.relative_to(root)
            target = path.resolve()
            if path.is_symlink() and not target.is_relative_to(root):
                raise FolderProblem(f"{shown} is a link pointing outside the model folder "
                                    f"(to {target}); copy the file into the folder instead")
            try:
                mode = os.stat(target).st_mode
            except OSError as exc:
                raise FolderProblem(f"{shown} cannot be read ({exc.strerror})") from None
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise FolderProblem(f"{shown} is not a regular file (a pipe, socket or device)")


def load_json(path: Path) -> Any:
    """Parse a small JSON file of a model folder (config, tokenizer config).

    Raises:
        FolderProblem: If it is too big, not text, not JSON, too deeply nested, or holds
            a number too long to convert.
    """
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise FolderProblem(f"{path.name} is {size:,} bytes; at most {MAX_JSON_BYTES:,} are read")
    return parse_json(path.read_bytes(), path.name)


def parse_json(raw: bytes, name: str) -> Any:
    """Parse JSON bytes, turning every failure into a :class:`FolderProblem` naming ``name``."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FolderProblem(f"{name} is not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise FolderProblem(f"{name} line {exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise FolderProblem(f"{name}: the JSON nests too deeply to be read") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise FolderProblem(f"{name}: the JSON cannot be read ({exc})") from None


def safetensors_header(path: Path) -> dict:
    """The checked header of a safetensors file.

    Args:
        path: The ``.safetensors`` file.

    Returns:
        The header: tensor name to ``{"dtype", "shape", "data_offsets"}``, and
        ``__metadata__`` when present.

    Raises:
        FolderProblem: If the length, the JSON or any entry does not fit the file.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        raw_length = handle.read(8)
        if len(raw_length) != 8:
            raise FolderProblem(f"{path.name}: too short to be a safetensors file")
        (length,) = struct.unpack("<Q", raw_length)
        if length > min(size - 8, MAX_HEADER_BYTES):
            raise FolderProblem(f"{path.name}: header length {length:,} does not fit a file of "
                                f"{size:,} bytes (at most {MAX_HEADER_BYTES:,})")
        header = parse_json(handle.read(length), path.name)
    if not isinstance(header, dict):
        raise FolderProblem(f"{path.name}: the header must be a JSON object, got "
                            f"{type(header).__name__}")
    check_entries(header, size - 8 - length, path.name)
    return header


def check_entries(header: dict, data_size: int, name: str) -> None:
    """Check every entry of a safetensors header against the data that follows it.

    Raises:
        FolderProblem: Naming the file and the entry.
    """
    spans = []
    for key, entry in header.items():
        if key == "__metadata__":
            _check_metadata(entry, name)
            continue
        spans.append((*_entry_span(entry, data_size, f"{name}: entry {key!r}"), key))
    spans.sort()
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        if begin < end:
            raise FolderProblem(f"{name}: entries {first!r} and {second!r} overlap in the data")


def _check_metadata(entry: Any, name: str) -> None:
    if not isinstance(entry, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in entry.items()):
        raise FolderProblem(f"{name}: entry '__metadata__' must map names to strings")


def _entry_span(entry: Any, data_size: int, where: str) -> tuple[int, int]:
    if not isinstance(entry, dict):
        raise FolderProblem(f"{where} must be an object with dtype, shape and data_offsets")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in ITEM_SIZES:
        raise FolderProblem(f"{where}: dtype {dtype!r} is not known "
                            f"(known: {', '.join(ITEM_SIZES)})")
    if not isinstance(shape, list) or not all(_count(dim) for dim in shape):
        raise FolderProblem(f"{where}: shape must be a list of non-negative integers, "
                            f"got {str(shape)[:80]}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_count, offsets)):
        raise FolderProblem(f"{where}: data_offsets must be [begin, end] as non-negative "
                            f"integers, got {str(offsets)[:80]}")
    begin, end = offsets
    if not begin <= end <= data_size:
        raise FolderProblem(f"{where}: data_offsets [{begin}, {end}] run outside the "
                            f"{data_size:,} bytes of data")
    needed = math.prod(shape) * ITEM_SIZES[dtype]
    if end - begin != needed:
        raise FolderProblem(f"{where}: shape {shape} of {dtype} needs {needed:,} bytes, but "
                            f"data_offsets hold {end - begin:,}")
    return begin, end


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
