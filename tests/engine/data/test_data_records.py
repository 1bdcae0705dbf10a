"""Task schemas and the content hash."""

import pytest

from engine.data.records import TASK_FIELDS, content_hash, normalise_text, text_fields


def test_task_fields():
    assert TASK_FIELDS["instruction"] == ("prompt", "response")
    assert text_fields("classification") == ("text",)


def test_hash_ignores_case_spacing_unicode_form_and_other_keys():
    a = {"prompt": "Take  Metformin\twith food.", "response": "Caf\u00e9", "id": "1"}
    b = {"prompt": " take metformin with FOOD. ", "response": "Cafe\u0301", "id": "2", "_line": 9}
    assert content_hash(a, "instruction") == content_hash(b, "instruction")
    assert normalise_text(" a \n b ") == "a b"


def test_hash_separates_fields_and_tasks_content():
    one = content_hash({"prompt": "ab", "response": "c"}, "instruction")
    two = content_hash({"prompt": "a", "response": "bc"}, "instruction")
    assert one != two
    assert content_hash({"text": "x", "label": "a"}, "classification") != content_hash(
        {"text": "x", "label": "b"}, "classification")


def test_hash_refuses_bad_input():
    with pytest.raises(ValueError, match="field 'label'"):
        content_hash({"text": "x"}, "classification")
    with pytest.raises(ValueError, match="unknown task"):
        content_hash({"text": "x"}, "nope")
