"""read_jsonl: valid records keep their line; every bad line is named by file, line and field."""

import json

import pytest

from engine.data.readers import read_jsonl
from engine.data.records import DataFormatError, RecordError


def _write(path, lines, encoding="utf-8", prefix=b""):
    path.write_bytes(prefix + "".join(line + "\n" for line in lines).encode(encoding))
    return path


def test_valid_records_keep_line_numbers_and_extra_keys(tmp_path):
    path = _write(tmp_path / "ok.jsonl", [
        json.dumps({"id": "a", "prompt": "Hi", "response": "Hello"}),
        "",
        json.dumps({"prompt": "Ça va?", "response": "Oui.", "kind": "x"}, ensure_ascii=False),
    ])
    result = read_jsonl(path, "instruction")
    assert result.errors == [] and result.lines == 3
    assert [r["_line"] for r in result.records] == [1, 3]
    assert result.records[0]["id"] == "a" and result.records[1]["prompt"] == "Ça va?"


def test_each_kind_of_bad_line_is_reported_where_it_is(tmp_path):
    path = _write(tmp_path / "clinical.jsonl", [
        json.dumps({"prompt": "a", "response": "b"}),
        '{"prompt": "a", "respon',
        json.dumps({"prompt": "a"}),
        json.dumps({"prompt": "a", "response": "   "}),
        json.dumps({"prompt": 3, "response": "b"}),
        json.dumps({"prompt": None, "response": "b"}),
        json.dumps(["prompt", "response"]),
    ])
    result = read_jsonl(path, "instruction")
    assert len(result.records) == 1 and result.lines == 7
    found = {(e.line, e.field): e.message for e in result.errors}
    assert found[(2, None)].startswith("invalid JSON: Unterminated string")
    assert found[(3, "response")] == "missing"
    assert found[(4, "response")] == "empty"
    assert found[(5, "prompt")] == "expected text, got int"
    assert found[(6, "prompt")] == "empty (null)"
    assert found[(7, None)] == "expected a JSON object, got an array"
    assert str(RecordError(str(path), 4, "response", "empty")) == "clinical.jsonl, line 4, field 'response': empty"
    assert all(e.file == str(path) for e in result.errors)


def test_every_bad_field_of_a_record_is_reported(tmp_path):
    path = _write(tmp_path / "legal.jsonl", [json.dumps({"text": "", "id": 1})])
    result = read_jsonl(path, "classification")
    assert [(e.field, e.message) for e in result.errors] == [("text", "empty"), ("label", "missing")]


def test_utf8_byte_order_mark_is_ignored(tmp_path):
    path = _write(tmp_path / "bom.jsonl", [json.dumps({"text": "first"}), json.dumps({"text": "second"})],
                  prefix=b"\xef\xbb\xbf")
    result = read_jsonl(path, "text")
    assert result.errors == [] and [r["text"] for r in result.records] == ["first", "second"]


def test_crlf_line_endings_are_read(tmp_path):
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b'{"text": "a"}\r\n{"text": "b"}\r\n')
    assert [r["text"] for r in read_jsonl(path, "text").records] == ["a", "b"]


def test_latin1_file_raises_with_the_line(tmp_path):
    path = _write(tmp_path / "latin.jsonl", [json.dumps({"text": "ok"}), '{"text": "café"}'], encoding="latin-1")
    with pytest.raises(DataFormatError) as info:
        read_jsonl(path, "text")
    assert info.value.line == 2 and "not UTF-8" in info.value.message
    assert str(info.value).startswith("latin.jsonl, line 2: not UTF-8 text (byte 0xe9")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16_file_raises_a_clear_error(tmp_path, encoding):
    path = _write(tmp_path / "wide.jsonl", [json.dumps({"text": "ok"})], encoding=encoding)
    with pytest.raises(DataFormatError, match="UTF-16") as info:
        read_jsonl(path, "text")
    assert info.value.line == 1


def test_unknown_task_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="unknown task 'chat'"):
        read_jsonl(tmp_path / "x.jsonl", "chat")
    with pytest.raises(FileNotFoundError):
        read_jsonl(tmp_path / "absent.jsonl", "text")


def test_reads_the_demo_file_and_finds_every_injected_fault(tmp_path):
    from engine.data.demo_clinical import write_clinical

    path = tmp_path / "clinical.jsonl"
    stats = write_clinical(path, n=400, seed=3)
    result = read_jsonl(path, "instruction")
    assert result.lines == stats.lines and len(result.records) == stats.valid
    broken = [e for e in result.errors if e.field is None]
    assert len(broken) == stats.broken_json
    bad_lines = {e.line for e in result.errors if e.field is not None}
    assert len(bad_lines) == stats.empty_fields + stats.missing_fields
