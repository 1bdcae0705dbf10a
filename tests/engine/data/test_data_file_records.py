"""Files the user brings for evaluation or drift go through the importer's one path: any
format it reads, the same mapping and field checks, nothing stored."""

import pytest

from engine.data.cleaner import clean_records
from engine.data.file_records import read_records


def test_a_csv_test_file_reads_like_an_import(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text('question,answer\n"How tall, 5\'9""?",Fine.\nWhere?,\n')
    result = read_records(path, "instruction")
    assert [r["prompt"] for r in result.records] == ['How tall, 5\'9"?']
    assert len(result.errors) == 1 and "line 3" in result.first_problem()


def test_a_jsonl_file_with_a_broken_line_names_it(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"prompt": "a", "response": "b"}\n{"prompt": "c",\n')
    result = read_records(path, "instruction")
    assert len(result.records) == 1 and result.records[0]["_line"] == 1
    assert "line 2" in str(result.errors[0])


def test_unknown_task_is_refused(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"prompt": "a", "response": "b"}\n')
    with pytest.raises(ValueError):
        read_records(path, "poetry")


def test_clean_records_keeps_text_as_generated_and_drops_duplicates():
    records = [{"prompt": "Hi  there", "response": "Hello, Dr. Ann Smith."}] * 2
    kept = clean_records(records, "instruction")
    assert kept == [{"prompt": "Hi there", "response": "Hello, Dr. Ann Smith."}]
