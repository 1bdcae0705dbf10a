"""Bad input: each gets a clear error naming where, nothing crashes, the project is unchanged."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import paths
from engine.data.importer import import_file
from engine.data.mapping import MappingError
from engine.data.records import DataFormatError
from engine.store import datasets, open_store, projects


@pytest.fixture
def project():
    db = open_store(paths.workspace_db())
    return db, projects.create(db, "bad-input")


def _state(db, pid):
    return (len(datasets.list_for_project(db, pid)), db["records"].count, db["quarantine"].count)


def _refused(db, pid, path, error, match, **kwargs):
    before = _state(db, pid)
    with pytest.raises(error, match=match):
        import_file(db, pid, path, **{"task": "instruction", **kwargs})
    assert _state(db, pid) == before


def test_empty_file(tmp_path, project):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    _refused(*project, path, DataFormatError, r"empty\.jsonl, line 1: the file holds no records")


def test_truncated_json_array(tmp_path, project):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps([{"prompt": f"p{i}", "response": "r"} for i in range(100)])[:-40])
    _refused(*project, path, DataFormatError, r"cut\.json, line 1: .*item (98|99|100).*truncated")


def test_utf8_file_with_a_latin1_line_later_on(tmp_path, project):
    path = tmp_path / "mixed.jsonl"
    good = "".join(json.dumps({"prompt": f"é {i}", "response": "r"}, ensure_ascii=False) + "\n"
                   for i in range(5000))
    path.write_bytes(good.encode() + '{"prompt": "caf\xe9", "response": "r"}\n'.encode("latin-1"))
    _refused(*project, path, DataFormatError, r"mixed\.jsonl, line 5001: not valid utf-8")


def test_binary_file_and_nul_bytes(tmp_path, project):
    path = tmp_path / "image.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    _refused(*project, path, DataFormatError, r"image\.jsonl, line 2: the file holds control byte 0x1a")
    path = tmp_path / "nul.csv"
    path.write_bytes(b"prompt,response\nhi,there\x00\n")
    _refused(*project, path, DataFormatError, r"nul\.csv, line 2: the file holds NUL bytes")


def test_a_50_mb_single_line_is_quarantined_not_loaded(tmp_path, project):
    db, pid = project
    path = tmp_path / "huge.jsonl"
    with open(path, "w") as stream:
        stream.write(json.dumps({"prompt": "ok", "response": "fine"}) + "\n")
        stream.write('{"prompt": "' + "x" * (50 * 1024 * 1024) + '", "response": "r"}\n')
    summary = import_file(db, pid, path, task="instruction", test_fraction=0)
    assert summary.records == 1 and summary.quarantined == 1
    assert "line 2: line too long" in db["quarantine"].get(1)["reason"]


def test_ragged_csv_rows_name_their_lines(tmp_path, project):
    db, pid = project
    path = tmp_path / "ragged.csv"
    path.write_text("prompt,response\na,b\nc\nd,e,f\ng,h\n")
    summary = import_file(db, pid, path, task="instruction", test_fraction=0)
    assert summary.records == 2
    assert [q["line"] for q in db["quarantine"].rows] == [3, 4]


def test_mapping_that_names_a_missing_column(tmp_path, project):
    path = tmp_path / "qa.csv"
    path.write_text("question,answer\nq,a\n")
    _refused(*project, path, MappingError, r"qa\.csv: the mapping response=reply names column 'reply'",
             mapping={"prompt": "question", "response": "reply"})


def test_unmappable_columns_say_which_field_is_missing(tmp_path, project):
    path = tmp_path / "odd.csv"
    path.write_text("foo,bar\n1,2\n")
    _refused(*project, path, MappingError, r"no column is mapped to field\(s\) prompt, response; "
                                           r"columns are: foo, bar")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_and_never_half_import(tmp_path, project, blob):
    db, pid = project
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(blob)
    before = _state(db, pid)
    try:
        summary = import_file(db, pid, path, task="instruction", test_fraction=0)
    except (DataFormatError, MappingError) as exc:
        assert "fuzz.jsonl" in str(exc)
        assert _state(db, pid) == before
    else:
        assert summary.records + summary.quarantined >= 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.dictionaries(st.sampled_from(["prompt", "response", "x"]),
                                st.one_of(st.text(max_size=20), st.integers(), st.none(),
                                          st.lists(st.integers(), max_size=2))),
                min_size=1, max_size=20))
def test_json_of_any_shape_is_either_a_record_or_quarantined(tmp_path, project, rows):
    db, pid = project
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(rows))
    try:
        summary = import_file(db, pid, path, task="instruction", test_fraction=0,
                              mapping={"prompt": "prompt", "response": "response"})
    except (MappingError, DataFormatError) as exc:  # e.g. integers beyond 64 bits
        assert "shapes.json" in str(exc)
        return
    assert summary.records + summary.quarantined == len(rows)
