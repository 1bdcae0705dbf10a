"""Import a user's file into a project: preview, map, validate, quarantine, hold out a test split.

Records stream from the file into the store in committed batches, into versions
marked "building" that no reader sees; bad rows go to the quarantine with file, line
and field. Only after the whole file was read and split are the versions published,
in one short transaction. A file that breaks half-way (truncated, wrong encoding), a
cancel or a crash leaves the project exactly as it was: the building versions are
removed at once, or by the next sweep after a kill.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterator

import numpy as np
import sqlite_utils

from engine.data.encodings import detect_encoding
from engine.data.formats import CONTAINERS, TABLES, detect_container, iter_rows
from engine.data.header_guess import NO_HEADER_NOTE, numbered
from engine.data.import_recipe import DEFAULT_TEST_FRACTION
from engine.data.mapping import check_mapping, guess_mapping, map_row, resolve_positions
from engine.data.records import DataFormatError, RawRow, RecordError, content_hash, task_fields
from engine.data.split import check_test_fraction, held_out_mask
from engine.data.split_groups import stored_groups
from engine.progress import Reporter
from engine.store import dataset_stream, datasets

FORMAT_ALIASES = {"alpaca": "json", "sharegpt": "json", "chat": "jsonl", "txt": "text",
                  "excel": "xlsx", "documents": "text-files",
                  "ndjson": "jsonl"}
BATCH = 5000
RAW_LIMIT = 4000


@dataclass
class Preview:
    """What Enclave makes of a file before importing it.

    Attributes:
        container: Detected or given format (one of ``CONTAINERS``).
        encoding: Detected text encoding ("" for Parquet).
        columns: Column names seen in the first rows, in order.
        rows: The first rows as read.
        mapping: Suggested (or given) ``{field: column}``.
        task: The task the mapping is for.
        errors: Problems found in the previewed rows.
        header: False when the table's first row is data (columns are numbered from 1).
        note: What the reader decided that the user should know ("" when nothing).
    """

    container: str
    encoding: str
    columns: list[str]
    rows: list[dict]
    mapping: dict[str, str]
    task: str
    errors: list[str] = field(default_factory=list)
    header: bool = True
    note: str = ""


@dataclass
class ImportSummary:
    """Outcome of an import."""

    dataset_id: int
    train_id: int | None
    test_id: int | None
    records: int
    quarantined: int
    train: int
    test: int
    container: str
    encoding: str
    mapping: dict[str, str]
    duplicates: int = 0
    moved: int = 0

    def split_note(self) -> str:
        """One line on how the split kept duplicates together ("" when nothing moved)."""
        if not self.moved:
            return ""
        return (f"{self.moved} records changed side so that duplicates stay together "
                f"({self.duplicates} duplicate records in the file)")

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_container(path: Path, fmt: str | None) -> str:
    """The container format for ``--format`` (aliases allowed) or detected from the file."""
    if fmt:
        container = FORMAT_ALIASES.get(fmt, fmt)
        if container not in CONTAINERS:
            raise ValueError(f"unknown format {fmt!r}; expected one of "
                             f"{', '.join(CONTAINERS + tuple(FORMAT_ALIASES))}")
        return container
    return detect_container(path)


def preview_file(path: Path, task: str, fmt: str | None = None, rows: int = 5,
                 mapping: dict[str, str] | None = None, scan: int = 50,
                 header: bool | None = None, sheet: str | None = None) -> Preview:
    """Read the first rows of a file and suggest a mapping.

    Args:
        path: The file (a folder for one document per file).
        task: "instruction", "classification" or "text".
        fmt: Format name or None to detect.
        rows: Rows to return.
        mapping: Fields to map differently from the guess; a column may be given by its
            1-based position ("5").
        scan: Rows scanned for column names.
        header: For tables: True if the first row names the columns, False if it is
            data, None to tell from the rows.
        sheet: For Excel: the sheet (default: the first).

    Raises:
        FileNotFoundError, DataFormatError: If the file cannot be read.
    """
    path = Path(path)
    task_fields(task)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    container = resolve_container(path, fmt)
    encoding = "" if container in ("parquet", "text-files", "xlsx") else detect_encoding(path)
    seen = list(islice(iter_rows(path, container, encoding or None, header, sheet), scan))
    good = [r.value for r in seen if isinstance(r, RawRow)]
    columns: list[str] = []
    for value in good:
        if isinstance(value, dict):
            columns += [k for k in value if k not in columns]
    found = not (container in TABLES and columns and columns == numbered(len(columns)))
    given = resolve_positions(mapping, columns) if mapping else None
    return Preview(container, encoding, columns, [v for v in good[:rows]],
                   merge_mapping(guess_mapping(columns, task), given), task,
                   [str(r) for r in seen if isinstance(r, RecordError)], found,
                   "" if found else NO_HEADER_NOTE)


def merge_mapping(guess: dict[str, str], given: dict[str, str] | None) -> dict[str, str]:
    """The user's mapping over the suggested one (fields the user did not name keep the guess)."""
    if not given:
        return guess
    if "messages" in given:
        return dict(given)
    merged = {**guess, **given}
    if {"prompt", "response"} & set(given):
        merged.pop("messages", None)
    return merged


def import_file(db: sqlite_utils.Database, project_id: int, path: Path, *, task: str,
                fmt: str | None = None, mapping: dict[str, str] | None = None,
                test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0,
                name: str | None = None,
                reporter: Reporter | None = None, job_id: int | None = None,
                header: bool | None = None, sheet: str | None = None) -> ImportSummary:
    """Import a file as a new dataset with its quarantine and a held-out test split.

    Args:
        db: The workspace store.
        project_id: The project.
        path: The file or folder.
        task: "instruction", "classification" or "text".
        fmt: Format (``CONTAINERS`` or an alias such as "alpaca"), or None to detect.
        mapping: ``{field: column}`` (a column by name or 1-based position); None takes
            the suggested one.
        test_fraction: Share held out for testing (0 for none); stratified by label
            for classification.
        seed: Seed of the split.
        name: Dataset name (default: the file name without suffix).
        reporter: Progress sink.
        job_id: The job doing the import, if any.
        header: For tables: whether the first row names the columns (None: tell).
        sheet: For Excel: the sheet to import (default: the first).

    Returns:
        What was imported.

    Raises:
        MappingError: If the mapping names a missing column or misses a field.
        DataFormatError: If the file is empty or cannot be read; nothing is written.
    """
    check_test_fraction(test_fraction)
    path, reporter = Path(path), reporter or Reporter()
    preview = preview_file(path, task, fmt, mapping=mapping, header=header, sheet=sheet)
    if not preview.rows and not preview.errors:
        raise DataFormatError(path, 1, "the file holds no records (it is empty)")
    check_mapping(preview.mapping, preview.columns, task, path.name)
    name = name or path.stem
    recipe = {"file": str(path), "format": preview.container, "encoding": preview.encoding,
              "task": task, "mapping": preview.mapping, "header": preview.header, "sheet": sheet}
    writer = dataset_stream.VersionWriter(db, project_id, name, "import", role=datasets.POOL,
                                          recipe=recipe, job_id=job_id)
    made = [writer.dataset_id]
    try:
        quarantined = _stream_into(db, path, preview, writer, reporter, sheet)
        if writer.count == 0:
            raise _nothing_valid(db, path, writer.dataset_id, quarantined)
        dataset_id = writer.finish(name=name, quarantined=quarantined)
        train_id, test_id, train, test, grouping = _split(db, project_id, name, writer, task,
                                                          test_fraction, seed, job_id, made,
                                                          reporter)
        reporter.check_cancel()
        datasets.publish(db, made)
    except BaseException:
        datasets.discard(db, made)
        raise
    summary = ImportSummary(dataset_id, train_id, test_id, writer.count, quarantined, train, test,
                            preview.container, preview.encoding, preview.mapping,
                            grouping.get("duplicate_records", 0), grouping.get("moved", 0))
    note = summary.split_note()
    reporter.report(1, 1, f"{writer.count} records, {quarantined} quarantined, "
                          f"{train} train / {test} test" + (f"; {note}" if note else ""),
                    stage="import")
    return summary


def _nothing_valid(db, path: Path, dataset_id: int, quarantined: int) -> DataFormatError:
    first = db.execute("SELECT line, field, reason FROM quarantine WHERE dataset_id = ? "
                       "ORDER BY id LIMIT 1", [dataset_id]).fetchone()
    if first is None:
        return DataFormatError(path, 1, "the file holds no records")
    return DataFormatError(path, first[0] or 1, f"no valid record: all {quarantined} records "
                           f"were refused; the first: {first[2]}")


def _stream_into(db, path: Path, preview: Preview, writer, reporter: Reporter,
                 sheet: str | None) -> int:
    records, hashes, bad = [], [], []
    quarantined = 0
    for row in iter_rows(path, preview.container, preview.encoding or None, preview.header, sheet):
        if isinstance(row, RecordError):
            bad.append(_quarantine_row(row, None))
            continue
        record, errors = map_row(row.value, preview.mapping, preview.task, str(path), row.line,
                                 row.unit, row.item)
        if record is None:
            bad.extend(_quarantine_row(e, row.value) for e in errors[:1])
            continue
        if row.unit == "file":
            record["_source"] = row.value.get("source")  # which document, within the folder
        records.append(record)
        hashes.append(content_hash(record, preview.task))
        if len(records) >= BATCH:
            writer.append(records, hashes)
            records, hashes = [], []
            reporter.report(writer.count, 0, f"{writer.count} records read", stage="import")
            reporter.check_cancel()
        if len(bad) >= BATCH:
            quarantined += _flush_quarantine(db, writer.dataset_id, bad)
    writer.append(records, hashes)
    return quarantined + _flush_quarantine(db, writer.dataset_id, bad)


def _quarantine_row(error: RecordError, raw: object) -> dict:
    text = json.dumps(raw, ensure_ascii=False, default=str) if raw is not None else error.raw
    return {"file": error.file, "line": error.line, "field": error.field,
            "reason": str(error), "raw": text[:RAW_LIMIT]}


def _flush_quarantine(db, dataset_id: int, rows: list[dict]) -> int:
    count = datasets.add_quarantine(db, dataset_id, rows)
    rows.clear()
    return count


def _split(db, project_id: int, name: str, writer, task: str, fraction: float, seed: int,
           job_id, made: list[int],
           reporter: Reporter) -> tuple[int | None, int | None, int, int, dict]:
    if fraction <= 0 or writer.count < 2:
        return None, None, writer.count, 0, {}
    label_key = "label" if task == "classification" else None

    def progress(position: int) -> None:
        reporter.report(position, writer.count, "keeping duplicates on one side of the split",
                        stage="split")
        reporter.check_cancel()

    groups = stored_groups(db, writer.dataset_id, writer.count, labelled=label_key is not None,
                           progress=progress, batch=BATCH)
    test_mask = held_out_mask(groups.roots, groups.codes, groups.names, fraction, seed)
    identity = np.arange(writer.count, dtype=groups.roots.dtype)  # every record its own group
    plain = held_out_mask(identity, groups.codes, groups.names, fraction, seed)
    firsts = int(np.count_nonzero(groups.roots == identity))
    grouping = {"grouped_by": "exact and near duplicates (MinHash-LSH, as cleaning)",
                "duplicate_records": writer.count - firsts,
                "moved": int(np.count_nonzero(test_mask ^ plain))}
    del groups, plain, identity
    targets = {part: dataset_stream.VersionWriter(
        db, project_id, f"{name}-{part}", "split", role=part, parent_id=writer.dataset_id,
        job_id=job_id, recipe={"fraction": fraction, "seed": seed, "stratified_by": label_key,
                               "part": part, **grouping})
        for part in (datasets.TRAIN, datasets.TEST)}
    made += [target.dataset_id for target in targets.values()]
    targets["test"].copy(writer.dataset_id, _positions(test_mask))
    test_id = targets["test"].finish(part="test")
    targets["train"].copy(writer.dataset_id, _positions(~test_mask))
    train_id = targets["train"].finish(part="train", test_id=test_id)
    test = targets["test"].count
    return train_id, test_id, writer.count - test, test, grouping


def _positions(mask: np.ndarray, chunk: int = 100_000) -> Iterator[int]:
    """The positions where ``mask`` is True, in order, a chunk at a time."""
    for start in range(0, len(mask), chunk):
        yield from (np.flatnonzero(mask[start:start + chunk]) + start).tolist()
