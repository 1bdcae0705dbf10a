"""CSV/TSV dialects of real exports: every row the RFC 4180 reading parses is kept."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import paths
from engine.data.csv_dialect import choose_dialect
from engine.data.formats import iter_csv
from engine.data.importer import import_file
from engine.data.records import RawRow, RecordError
from engine.store import dataset_stream, open_store, projects
from tests.engine.data.csv_fixtures import HEADER, clinical_rows, write_table


@pytest.fixture
def project():
    db = open_store(paths.workspace_db())
    return db, projects.create(db, "dialects", task="classification")


def _rows(path, **kwargs):
    read = list(iter_csv(path, **kwargs))
    assert not [r for r in read if isinstance(r, RecordError)], read
    return [list(r.value.values()) for r in read if isinstance(r, RawRow)]


def test_doubled_quotes_after_apostrophes_lose_no_row(tmp_path, project):
    """The 5'9"" export: the sniffer chose a dialect without doubled quotes and lost rows."""
    db, pid = project
    rows = clinical_rows(396, plain_first=300)
    path = write_table(tmp_path / "export.csv", rows)
    summary = import_file(db, pid, path, task="classification", test_fraction=0,
                          mapping={"text": "history"})
    assert (summary.records, summary.quarantined) == (396, 0)
    kept = [r for _, r, _ in dataset_stream.iter_records(db, summary.dataset_id)]
    assert [r["text"] for r in kept] == [row[3] for row in rows]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("bom,crlf,trailing", [(False, True, False), (True, False, False),
                                                (True, True, True), (False, False, True)])
def test_export_quirks_keep_every_row_intact(tmp_path, delimiter, bom, crlf, trailing):
    rows = clinical_rows(120)
    path = write_table(tmp_path / "export.csv", rows, delimiter=delimiter, bom=bom, crlf=crlf,
                       trailing=trailing)
    assert _rows(path) == rows
    first = next(iter(iter_csv(path)))
    assert list(first.value) == HEADER


def test_european_semicolon_export_with_decimal_commas(tmp_path):
    rows = [[str(i), f"{i},5", f"Dosis {i},25 mg; zweimal täglich", "ja"] for i in range(40)]
    path = write_table(tmp_path / "eu.csv", rows, header=["nr", "wert", "text", "label"],
                       delimiter=";", bom=True)
    assert _rows(path) == rows
    assert choose_dialect(path.read_text(encoding="utf-8-sig")).delimiter == ";"


def test_commas_and_semicolons_inside_fields_keep_the_comma(tmp_path):
    rows = [[f"a; b; c {i}", "x, y; z", "label"] for i in range(30)]
    path = write_table(tmp_path / "mixed.csv", rows, header=["text", "notes", "label"])
    assert _rows(path) == rows


def test_a_row_of_another_width_is_still_quarantined(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\r\n\"5'9\"\" tall\",a\r\nonly one\r\nok,b\r\n")
    read = list(iter_csv(path))
    assert [type(r).__name__ for r in read] == ["RawRow", "RecordError", "RawRow"]
    assert read[1].line == 3 and "row has 1 cells, the header has 2" in read[1].message


_CELL = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(
    list("\n\r\t\"',;| '\"5")), max_size=30)
_DIALECTS = [(",", True), (";", False), ("\t", True), ("|", False)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=25),
       dialect=st.sampled_from(_DIALECTS), bom=st.booleans(), trailing=st.booleans())
def test_any_table_csv_writer_writes_reads_back_intact(tmp_path_factory, rows, dialect, bom,
                                                       trailing):
    delimiter, crlf = dialect
    if not crlf:  # csv.writer leaves a lone CR unquoted under "\n" line ends: unreadable by any reader
        rows = [[cell.replace("\r", "\n") for cell in row] for row in rows]
    path = write_table(tmp_path_factory.mktemp("prop") / "t.csv", rows, ["id", "text", "label"],
                       delimiter=delimiter, bom=bom, crlf=crlf, trailing=trailing)
    assert _rows(path, header=True) == rows
