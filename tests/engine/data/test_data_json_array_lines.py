"""JSON array files name the line of every bad record, like JSON Lines files do."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import paths
from engine.data import json_array
from engine.data.formats import iter_json_array
from engine.data.importer import import_file
from engine.data.records import DataFormatError, RawRow, RecordError
from engine.store import dataset_stream, datasets, open_store, projects

GOOD = {"prompt": "What is a fever?", "response": "A high body temperature."}


@pytest.fixture
def project():
    db = open_store(paths.workspace_db())
    return db, projects.create(db, "json-array")


def _pretty(items) -> str:
    return json.dumps(items, indent=2)


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


def test_wrong_type_and_missing_field_name_line_and_field(tmp_path, project):
    db, pid = project
    text = _pretty([GOOD, {"prompt": "How long?", "response": 5}, {"prompt": "Only a prompt"}, GOOD])
    path = tmp_path / "export.json"
    path.write_text(text)
    summary = import_file(db, pid, path, task="instruction", test_fraction=0)
    assert summary.records == 2 and summary.quarantined == 2
    bad = dataset_stream.quarantine_for_project(db, pid)
    second, third = _line_of(text, "{", 2), _line_of(text, "{", 3)
    assert [(q["line"], q["field"]) for q in bad] == [(second, "response"), (third, "response")]
    assert bad[0]["reason"].startswith(f"export.json, line {second} (item 2), field 'response':")
    assert bad[1]["reason"].startswith(f"export.json, line {third} (item 3), field 'response':")
    lines = [r["_line"] for r in datasets.records(db, summary.dataset_id)]
    assert lines == [_line_of(text, "{", 1), _line_of(text, "{", 4)]


def test_broken_item_names_the_line_of_the_fault_and_reading_goes_on(tmp_path, project):
    db, pid = project
    text = _pretty([GOOD, GOOD]).rstrip("]\n") + (
        ',\n  {\n    "prompt": "a",\n    "response": \'single quotes\'\n  },\n'
        '  {"prompt": "after", "response": "the broken one"}\n]\n')
    path = tmp_path / "broken.json"
    path.write_text(text)
    summary = import_file(db, pid, path, task="instruction", test_fraction=0)
    assert summary.records == 3 and summary.quarantined == 1
    (bad,) = dataset_stream.quarantine_for_project(db, pid)
    fault = _line_of(text, "'single")
    assert bad["line"] == fault and bad["field"] is None
    assert bad["reason"].startswith(f"broken.json, line {fault} (item 3): invalid JSON: Expecting value")
    assert "single quotes" in bad["raw"]
    assert [r["prompt"] for r in datasets.records(db, summary.dataset_id)][-1] == "after"


def test_truncated_array_names_the_line_where_it_breaks(tmp_path, project):
    db, pid = project
    text = _pretty([{"prompt": f"p{i}", "response": f"r{i}"} for i in range(20)])
    cut = text[:text.index('"r12"') + 3]
    path = tmp_path / "cut.json"
    path.write_text(cut)
    with pytest.raises(DataFormatError) as caught:
        import_file(db, pid, path, task="instruction")
    assert caught.value.line == cut.count("\n") + 1
    assert str(caught.value).startswith(f"cut.json, line {cut.count(chr(10)) + 1}: ")
    assert "item 13" in str(caught.value) and "truncated" in str(caught.value)
    assert datasets.list_for_project(db, pid) == []


def test_array_that_is_never_closed_names_its_last_line(tmp_path):
    text = _pretty([GOOD, GOOD]).rstrip("]\n") + "\n"
    path = tmp_path / "open.json"
    path.write_text(text)
    rows = iter_json_array(path)
    assert isinstance(next(rows), RawRow) and isinstance(next(rows), RawRow)
    with pytest.raises(DataFormatError, match=rf"open\.json, line {text.count(chr(10))}: .*truncated"):
        next(rows)


def test_missing_comma_between_items_names_its_line(tmp_path):
    path = tmp_path / "comma.json"
    path.write_text('[\n{"prompt": "a", "response": "b"}\n{"prompt": "c", "response": "d"}\n]')
    with pytest.raises(DataFormatError, match=r"comma\.json, line 3: expected ',' or ']' after item 1"):
        list(iter_json_array(path))


def test_single_line_array_names_line_and_item(tmp_path):
    path = tmp_path / "one-line.json"
    path.write_text(json.dumps([GOOD, "not an object", GOOD]) + "\n")
    rows = list(iter_json_array(path))
    assert [(r.line, r.item) for r in rows] == [(1, 1), (1, 2), (1, 3)]


def test_not_an_array_and_text_after_it(tmp_path):
    path = tmp_path / "object.json"
    path.write_text('\n\n{"data": []}')
    with pytest.raises(DataFormatError, match=r"object\.json, line 3: .*JSON array"):
        list(iter_json_array(path))
    path.write_text('[{"a": 1}]\n\n[{"b": 2}]')
    with pytest.raises(DataFormatError, match=r"object\.json, line 3: .*after the end of the array"):
        list(iter_json_array(path))


def test_decoding_error_names_its_exact_line(tmp_path, monkeypatch):
    monkeypatch.setattr(json_array, "CHUNK_BYTES", 64)
    path = tmp_path / "mixed.json"
    body = ",\n".join(json.dumps({"prompt": f"é {i}", "response": "r"}, ensure_ascii=False)
                      for i in range(40))
    path.write_bytes(b"[\n" + body.encode() + b',\n{"prompt": "caf\xe9", "response": "r"}\n]')
    with pytest.raises(DataFormatError, match=r"mixed\.json, line 42: not valid utf-8"):
        list(iter_json_array(path, "utf-8"))


def test_trailing_comma_and_empty_array(tmp_path):
    path = tmp_path / "trailing.json"
    path.write_text('[{"a": 1},\n]')
    assert [r.value for r in iter_json_array(path)] == [{"a": 1}]
    path.write_text(" [ ] ")
    assert list(iter_json_array(path)) == []


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(_json, max_size=6), indent=st.sampled_from([None, 1, 2]),
       chunk=st.integers(min_value=1, max_value=40))
def test_items_and_lines_match_the_standard_library_at_any_chunk_size(tmp_path, monkeypatch, items,
                                                                       indent, chunk):
    monkeypatch.setattr(json_array, "CHUNK_BYTES", chunk)
    path = tmp_path / "random.json"
    text = json.dumps(items, indent=indent, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    rows = list(iter_json_array(path, "utf-8"))
    assert all(isinstance(r, RawRow) for r in rows)
    assert [r.value for r in rows] == items
    decoder, position, starts = json.JSONDecoder(), text.index("[") + 1, []
    for _ in items:
        while text[position] in " \n,":
            position += 1
        starts.append(text.count("\n", 0, position) + 1)
        position = decoder.raw_decode(text, position)[1]
    assert [r.line for r in rows] == starts


def test_record_error_names_line_and_item():
    error = RecordError("data/x.json", 7, "label", "missing", item=3)
    assert str(error) == "x.json, line 7 (item 3), field 'label': missing"
