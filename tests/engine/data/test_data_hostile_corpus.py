"""Hostile input corpus: every file gets a clear refusal or a quarantine, never a traceback.

Each case of :mod:`hostile_cases` (and each hostile project name) goes through the engine
API and the command line in-process. A refusal must name the file (and the line where
there is one) and leave the workspace exactly as it was; a quarantine must name file, line
and field and leave the records already there untouched. Run with ``-s`` to see the tally.
"""

from __future__ import annotations

import hashlib
import importlib.util
import signal
import sys
import traceback
from pathlib import Path

import pytest

from engine import paths
from engine.cli import main
from engine.data.importer import import_file
from engine.data.mapping import MappingError
from engine.data.records import DataFormatError
from engine.store import open_store, projects

_spec = importlib.util.spec_from_file_location("hostile_cases", Path(__file__).with_name("hostile_cases.py"))
hostile = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("hostile_cases", hostile)
_spec.loader.exec_module(hostile)

CLI_IMPORTS = 3  # an import that gets as far as a job takes a second or two on the command line
REFUSALS = (DataFormatError, MappingError, FileNotFoundError, ValueError, projects.ProjectError)
HOSTILE_NAMES = {
    "control character": "ward\x07notes", "NUL": "a\x00b", "newline": "two\nlines",
    "carriage return": "over\rwrite", "escape sequence": "\x1b[31mred", "delete": "del\x7f",
    "right-to-left override": "report\u202egpj.exe", "left-to-right override": "a\u202db",
    "right-to-left isolate": "x\u2067y", "pop directional isolate": "x\u2069",
    "120,000 characters": "n" * 120_000, "101 characters": "n" * 101, "empty": "",
    "blank": "   \t ", "line separator": "a\u2028b", "zero-width no-break (format)": "a\ufeffb",
}


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hang()


def _snapshot(db) -> tuple:
    # The search index's own tables (records_fts_*) keep merge segments after a discarded
    # version's rows are deleted; what a project holds is compared, not index pages.
    counts = tuple((t, db[t].count) for t in sorted(db.table_names())
                   if not t.startswith("records_fts"))
    digest = hashlib.sha256()
    for row in db.execute("SELECT id, dataset_id, data FROM records ORDER BY id"):
        digest.update(repr(row).encode())
    return counts, digest.hexdigest()


def _records_digest(db, up_to: int) -> str:
    digest = hashlib.sha256()
    for row in db.execute("SELECT id, dataset_id, data FROM records WHERE id <= ? ORDER BY id", [up_to]):
        digest.update(repr(row).encode())
    return digest.hexdigest()


class Tally:
    """What happened to each hostile input."""

    def __init__(self) -> None:
        self.tried = self.clear = self.quarantined = 0
        self.tracebacks: list[str] = []
        self.unclear: list[str] = []

    def line(self) -> str:
        return (f"hostile inputs: tried {self.tried}, clear refusals {self.clear}, "
                f"quarantined {self.quarantined}, tracebacks {len(self.tracebacks)}")


def _short(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__}: {str(exc)[:200]} ({Path(where.filename).name}:{where.lineno})"


def _guarded(call):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(5)
    try:
        return call()
    finally:
        signal.alarm(0)


def _through_api(db, pid, name, path, kwargs, expect, match, tally: Tally) -> None:
    before = _snapshot(db)
    last_record = db.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0]
    last_quarantine = db.execute("SELECT COALESCE(MAX(id), 0) FROM quarantine").fetchone()[0]
    old_records = _records_digest(db, last_record)
    tally.tried += 1
    try:
        summary = _guarded(lambda: import_file(db, pid, path, task="instruction", **kwargs))
    except _Hang:
        tally.tracebacks.append(f"{name}: hangs")
        return
    except REFUSALS as exc:
        message = str(exc)
        named = any(name in message for name in _names(path))
        if expect == "quarantine" or not named or not _matches(match, message) \
                or _snapshot(db) != before:
            tally.unclear.append(f"{name} (api): refused with {message[:300]!r}")
        else:
            tally.clear += 1
        return
    except Exception as exc:  # noqa: BLE001 - a traceback is what the corpus hunts for
        tally.tracebacks.append(f"{name}: {_short(exc)}")
        return
    rows = list(db.execute("SELECT file, line, field, reason FROM quarantine WHERE id > ? ORDER BY id",
                           [last_quarantine]))
    good = (expect != "refuse" and summary.quarantined and rows
            and all(file and line for file, line, _, _ in rows)
            and _matches(match, rows[0][3]) and path.name in rows[0][3]
            and _records_digest(db, last_record) == old_records)
    if good:
        tally.quarantined += 1
    else:
        tally.unclear.append(f"{name} (api): imported {summary.records}, quarantine {rows[:2]}")


def _names(path: Path) -> list[str]:
    """What a refusal may name: the file, a file in the folder, or the option at fault."""
    inside = [child.name for child in path.iterdir()] if path.is_dir() else []
    return [path.name, *inside, "fraction", "format"]


def _matches(pattern: str, text: str) -> bool:
    import re
    return not pattern or re.search(pattern, text, re.S) is not None


def _cli_args(project: str, path: Path, kwargs: dict) -> list[str]:
    argv = ["data", "import", project, str(path), "--task", "instruction"]
    if "fmt" in kwargs:
        argv += ["--format", kwargs["fmt"]]
    for field, column in (kwargs.get("mapping") or {}).items():
        argv += ["--map", f"{field}={column}"]
    if "test_fraction" in kwargs:
        argv += [f"--test-fraction={kwargs['test_fraction']}"]
    return argv


def _through_cli(argv: list[str], name: str, names: list[str], capsys, tally: Tally) -> None:
    tally.tried += 1
    try:
        code = _guarded(lambda: main(argv))
    except SystemExit as exc:  # argparse refuses a bad option value
        code = exc.code
    except _Hang:
        tally.tracebacks.append(f"{name} (cli): hangs")
        return
    except Exception as exc:  # noqa: BLE001
        tally.tracebacks.append(f"{name} (cli): {_short(exc)}")
        return
    out, err = capsys.readouterr()
    if "Traceback" in out + err:
        tally.tracebacks.append(f"{name} (cli): {(out + err)[-600:]}")
    elif code == 0 and "quarantined" in out:
        tally.quarantined += 1
    elif code and any(name in err for name in names):
        tally.clear += 1
    else:
        tally.unclear.append(f"{name} (cli): exit {code}, {(out + err)[-300:]!r}")


def _check_names(db, capsys, tally: Tally) -> None:
    for what, name in HOSTILE_NAMES.items():
        before = _snapshot(db)
        tally.tried += 1
        try:
            projects.create(db, name)
            tally.unclear.append(f"project name with {what}: accepted")
        except projects.ProjectError as exc:
            ok = "name" in str(exc) and len(str(exc)) < 400 and _snapshot(db) == before
            tally.clear += ok
            if not ok:
                tally.unclear.append(f"project name with {what}: {str(exc)[:200]!r}")
        except Exception as exc:  # noqa: BLE001
            tally.tracebacks.append(f"project name with {what}: {_short(exc)}")
        if "\x00" not in name:  # a command line cannot carry NUL
            _through_cli(["create-project", name], f"name with {what}", ["name"], capsys, tally)


def test_hostile_inputs_get_a_clear_refusal_or_quarantine(tmp_path, capsys):
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "hostile")
    seed_file = tmp_path / "seed.jsonl"
    seed_file.write_text("".join(f'{{"prompt": "q{i}", "response": "a{i}"}}\n' for i in range(20)))
    import_file(db, pid, seed_file, task="instruction")
    tally, cli_imports = Tally(), 0
    for name, make, expect, match in hostile.CASES:
        folder = tmp_path / name
        folder.mkdir()
        path, kwargs = make(folder)
        _through_api(db, pid, name, path, kwargs, expect, match, tally)
        if expect == "refuse" or cli_imports < CLI_IMPORTS:
            cli_imports += expect != "refuse"
            _through_cli(_cli_args("hostile", path, kwargs), name, _names(path), capsys, tally)
    _check_names(db, capsys, tally)
    with capsys.disabled():
        print("\n" + tally.line())
    assert len(hostile.CASES) + len(HOSTILE_NAMES) >= 50
    assert not tally.tracebacks, "\n".join(tally.tracebacks)
    assert not tally.unclear, "\n".join(tally.unclear)


def test_a_file_with_no_valid_record_stores_nothing(tmp_path):
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "nothing-valid")
    path = tmp_path / "none-valid.jsonl"
    path.write_text('{"prompt": "a"}\n{"response": "b"}\n[1]\n')
    before = _snapshot(db)
    with pytest.raises(DataFormatError, match=r"none-valid\.jsonl"):
        import_file(db, pid, path, task="instruction")
    assert _snapshot(db) == before


def test_a_100000_column_csv_is_refused_within_a_second(tmp_path):
    import time

    db = open_store(paths.workspace_db())
    pid = projects.create(db, "wide")
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("x" * 100_000) + "\n")
    started = time.perf_counter()
    with pytest.raises(DataFormatError, match=r"wide\.csv, line 1: the header has 100000 columns"):
        import_file(db, pid, path, task="instruction")
    assert time.perf_counter() - started < 1.5
