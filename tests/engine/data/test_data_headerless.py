"""Tables without a header row: detected, forced either way, columns mapped by position."""

from __future__ import annotations

import pytest

from engine import paths
from engine.data.header_guess import NO_HEADER_NOTE, first_row_is_data
from engine.data.importer import import_file, preview_file
from engine.data.mapping import MappingError, column_heading
from engine.store import dataset_stream, open_store, projects
from tests.engine.data.csv_fixtures import clinical_rows, write_table


@pytest.fixture
def project():
    db = open_store(paths.workspace_db())
    return db, projects.create(db, "headerless", task="classification")


def _texts(db, dataset_id):
    return [r["text"] for _, r, _ in dataset_stream.iter_records(db, dataset_id)]


def test_a_first_row_of_data_is_told_and_columns_are_numbered(tmp_path, project):
    db, pid = project
    rows = clinical_rows(60)
    path = write_table(tmp_path / "ehr.csv", rows, header=None)
    preview = preview_file(path, "classification")
    assert (preview.header, preview.note) == (False, NO_HEADER_NOTE)
    assert preview.columns == ["1", "2", "3", "4", "5", "6"]
    summary = import_file(db, pid, path, task="classification", test_fraction=0,
                          mapping={"text": "4", "label": "6"})
    assert (summary.records, summary.quarantined) == (60, 0)
    assert _texts(db, summary.dataset_id) == [row[3] for row in rows]  # the first row kept


def test_a_header_row_is_kept_as_names(tmp_path):
    path = write_table(tmp_path / "named.csv", clinical_rows(20))
    preview = preview_file(path, "classification")
    assert preview.header and preview.note == "" and preview.columns[3] == "history"


def test_header_can_be_forced_either_way(tmp_path, project):
    db, pid = project
    path = write_table(tmp_path / "ehr.csv", clinical_rows(20), header=None)
    assert preview_file(path, "classification", header=False).columns[0] == "1"
    forced = preview_file(path, "classification", header=True)
    assert forced.header and forced.columns[0] == "1000"
    named = write_table(tmp_path / "named.csv", clinical_rows(20))
    summary = import_file(db, pid, named, task="classification", test_fraction=0, header=False,
                          mapping={"text": "4", "label": "6"})
    assert summary.records == 21 and _texts(db, summary.dataset_id)[0] == "history"


def test_columns_by_position_on_a_file_with_a_header(tmp_path):
    path = write_table(tmp_path / "named.csv", clinical_rows(20))
    preview = preview_file(path, "classification", mapping={"text": "4", "label": "6"})
    assert preview.mapping == {"text": "history", "label": "label"}
    from_toml = preview_file(path, "classification", mapping={"text": 4, "label": 6})
    assert from_toml.mapping == {"text": "history", "label": "label"}


def test_a_position_beyond_the_last_column_is_refused_by_name(tmp_path, project):
    db, pid = project
    path = write_table(tmp_path / "ehr.csv", clinical_rows(20), header=None)
    with pytest.raises(MappingError, match=r"names column '9'.*position, 1 to 6"):
        import_file(db, pid, path, task="classification", mapping={"text": "9", "label": "6"})
    assert db.execute("SELECT COUNT(*) FROM datasets WHERE project_id = ?", [pid]).fetchone()[0] == 0


def test_short_label_columns_without_a_header_are_told_by_repeated_values():
    first = ["great film, would watch again", "positive"]
    body = [["dull", "negative"], ["loved it", "positive"], ["meh", "negative"]]
    assert first_row_is_data(first, body)
    assert not first_row_is_data(["review", "sentiment"], body)
    assert not first_row_is_data(["id", "age"], [["1", "40"], ["2", "51"]])
    assert first_row_is_data(["7", "63"], [["1", "40"], ["2", "51"]])


def test_column_headings_show_position_and_name_or_first_value():
    assert column_heading(5, "history") == "5: history"
    heading = column_heading(5, "5", "HISTORY OF PRESENT ILLNESS: a 63 year old man with pain")
    assert heading.startswith("5: HISTORY OF PRESENT ILLNESS") and heading.endswith("\u2026")
    assert column_heading(2, "2") == "2"
