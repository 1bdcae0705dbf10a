"""Which programs a job process may start: the audit wall's allowlist.

A denylist of network tools (curl, wget, nc, ssh…) can never be complete, so a
job may start only:

* the Python interpreter that runs it, and then only for Enclave's own modules
  (``python -m engine…``) or the standard library's multiprocessing bootstrap
  (``python -c "from multiprocessing.forkserver import main; main(…)"`` with
  literal arguments only);
* local device tools that the model libraries query: ``nvidia-smi``,
  ``rocminfo``, ``ldconfig``.

A shell (and so ``os.system``), any other program and any other Python code line
(``python -c "import urllib…"``) is refused.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import sys
from typing import Any

DEVICE_TOOLS = frozenset({"nvidia-smi", "rocminfo", "ldconfig", "ldconfig.real"})
_ENGINE_MODULE = re.compile(r"engine(\.[A-Za-z_]\w*)*")
_NO_VALUE_FLAGS = re.compile(r"-[BbdEIOqRsSuvxP]+")
_BOOTSTRAP = {"multiprocessing.spawn": "spawn_main", "multiprocessing.forkserver": "main",
              "multiprocessing.resource_tracker": "main"}


def _text(value: Any) -> str:
    return os.fsdecode(value) if isinstance(value, (bytes, os.PathLike)) else str(value)


def _interpreters() -> set[str]:
    found = {sys.executable, getattr(sys, "_base_executable", sys.executable)}
    return {os.path.realpath(item) for item in found if item}


def _resolve(executable: str) -> str:
    if os.sep not in executable:
        executable = shutil.which(executable) or executable
    return os.path.realpath(executable)


def is_multiprocessing_bootstrap(code: str) -> bool:
    """True for the one-line programs multiprocessing starts its workers with.

    The line must import one entry point from ``multiprocessing.spawn``,
    ``.forkserver`` or ``.resource_tracker`` and call it with literal arguments.
    """
    try:
        body = ast.parse(code).body
    except (SyntaxError, ValueError):
        return False
    if len(body) != 2 or not isinstance(body[0], ast.ImportFrom):
        return False
    entry = _BOOTSTRAP.get(body[0].module or "")
    names = [(item.name, item.asname) for item in body[0].names]
    call = body[1].value if isinstance(body[1], ast.Expr) else None
    if entry is None or names != [(entry, None)] or not isinstance(call, ast.Call):
        return False
    if not isinstance(call.func, ast.Name) or call.func.id != entry:
        return False
    try:
        for node in [*call.args, *(item.value for item in call.keywords)]:
            ast.literal_eval(node)
    except ValueError:
        return False
    return True


def _judge_python(args: list[str]) -> str:
    index = 0
    while index < len(args):
        arg = args[index]
        if _NO_VALUE_FLAGS.fullmatch(arg) or (arg[:2] in ("-W", "-X") and len(arg) > 2):
            index += 1
        elif arg in ("-W", "-X"):
            index += 2
        else:
            break
    rest = args[index:index + 2]
    if len(rest) == 2 and rest[0] == "-m" and _ENGINE_MODULE.fullmatch(rest[1]):
        return ""
    if len(rest) == 2 and rest[0] == "-c" and is_multiprocessing_bootstrap(rest[1]):
        return ""
    shown = " ".join(args)
    return (f"running Python with {shown[:160]!r} (a job's Python children may run only "
            "Enclave's own modules or multiprocessing workers)")


def judge_program(executable: Any, argv: Any) -> str:
    """Whether a job process may start a program.

    Args:
        executable: The program's path or name (``None``: the first of ``argv``).
        argv: Its argument list, the program's name first.

    Returns:
        An empty string when allowed; else what was refused and why.
    """
    if isinstance(argv, (str, bytes, os.PathLike)):
        argv = [argv]
    args = [_text(item) for item in (argv or [])]
    program = _text(executable) if executable is not None else (args[0] if args else "")
    if _resolve(program) in _interpreters():
        return _judge_python(args[1:])
    name = os.path.basename(program)
    if name in DEVICE_TOOLS:
        return ""
    return (f"running {name!r} (a job may start only Enclave's own Python modules and "
            "local device tools)")
