"""Every supported format and encoding imports, with mapping, quarantine and a held-out split."""

import json

import pytest

from engine import paths
from engine.data.importer import import_file, preview_file
from engine.store import dataset_stream, datasets, open_store, projects


@pytest.fixture
def project():
    db = open_store(paths.workspace_db())
    return db, projects.create(db, "data-test")


def _records(db, dataset_id):
    return [r for _, r, _ in dataset_stream.iter_records(db, dataset_id)]


def test_csv_with_bom_semicolons_and_multiline_fields(tmp_path, project):
    db, pid = project
    path = tmp_path / "export.csv"
    path.write_bytes("\ufeffquestion;answer\nhi;\"two\nlines\"\nx;y;z\nq2;a2\n".encode())
    summary = import_file(db, pid, path, task="instruction", test_fraction=0)
    assert summary.mapping == {"prompt": "question", "response": "answer"}
    assert summary.encoding == "utf-8-sig" and summary.records == 2
    records = _records(db, summary.dataset_id)
    assert records[0] == {"prompt": "hi", "response": "two\nlines", "_line": 2}
    assert records[1]["_line"] == 5
    bad = dataset_stream.quarantine_for_project(db, pid)
    assert [(q["line"], q["reason"]) for q in bad] == [
        (4, "export.csv, line 4: row has 3 cells, the header has 2 (question, answer)")]
    assert bad[0]["raw"] == '["x", "y", "z"]'


def test_alpaca_json_array_joins_instruction_and_input(tmp_path, project):
    db, pid = project
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps([{"instruction": "Summarise", "input": "", "output": "Done"},
                                {"instruction": "Translate", "input": "Hallo", "output": "Hello"},
                                "not an object"]))
    summary = import_file(db, pid, path, task="instruction", fmt="alpaca", test_fraction=0)
    records = _records(db, summary.dataset_id)
    assert [r["prompt"] for r in records] == ["Summarise", "Translate\n\nHallo"]
    reason = dataset_stream.quarantine_for_project(db, pid)[0]["reason"]
    assert "alpaca.json, line 1 (item 3): expected an object" in reason


def test_sharegpt_and_messages_chat_multi_turn(tmp_path, project):
    db, pid = project
    path = tmp_path / "chat.jsonl"
    lines = [{"conversations": [{"from": "system", "value": "Be brief"}, {"from": "human", "value": "Hi"},
                                {"from": "gpt", "value": "Hello"}, {"from": "human", "value": "Bye"},
                                {"from": "gpt", "value": "Bye"}]},
             {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]},
             {"messages": [{"role": "user", "content": "no answer"}]}]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    summary = import_file(db, pid, path, task="instruction", test_fraction=0)
    records = _records(db, summary.dataset_id)
    assert [len(r["messages"]) for r in records] == [5, 2]
    assert records[0]["messages"][1] == {"role": "user", "content": "Hi"}
    assert "no assistant turn" in dataset_stream.quarantine_for_project(db, pid)[0]["reason"]


def test_plain_text_blocks_in_utf16_and_files_in_a_folder(tmp_path, project):
    db, pid = project
    path = tmp_path / "notes.txt"
    path.write_text("first note\nsecond line\n\n\nsecond note\n", encoding="utf-16")
    summary = import_file(db, pid, path, task="text", test_fraction=0)
    assert [r["text"] for r in _records(db, summary.dataset_id)] == ["first note\nsecond line", "second note"]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Doc A\n\nstill A")
    (folder / "b.md").write_text("Doc B")
    summary = import_file(db, pid, folder, task="text", test_fraction=0)
    assert [r["text"] for r in _records(db, summary.dataset_id)] == ["Doc A\n\nstill A", "Doc B"]


def test_latin1_tsv_classification_with_stratified_split(tmp_path, project):
    db, pid = project
    rows = "".join(f"café {i}\t{'pos' if i % 2 else 'neg'}\n" for i in range(20))
    path = tmp_path / "labels.tsv"
    path.write_bytes(("text\tlabel\n" + rows).encode("latin-1"))
    summary = import_file(db, pid, path, task="classification", test_fraction=0.2)
    assert summary.encoding == "latin-1" and summary.records == 20
    test = _records(db, summary.test_id)
    assert sorted(r["label"] for r in test) == ["neg", "neg", "pos", "pos"]
    assert _records(db, summary.dataset_id)[0]["text"] == "café 0"
    assert datasets.get(db, summary.train_id)["parent_id"] == summary.dataset_id


def test_parquet_and_explicit_mapping_with_text_pairs(tmp_path, project):
    import pyarrow as pa
    import pyarrow.parquet as pq

    db, pid = project
    path = tmp_path / "nli.parquet"
    pq.write_table(pa.table({"premise": ["A man sleeps", "A dog runs"],
                             "hypothesis": ["Someone rests", "A cat sits"], "gold": [1, 0]}), path)
    preview = preview_file(path, "classification")
    assert preview.mapping == {"text": "premise", "text_pair": "hypothesis", "label": "gold"}
    summary = import_file(db, pid, path, task="classification", test_fraction=0,
                          mapping={"text": "premise", "text_pair": "hypothesis", "label": "gold"})
    records = _records(db, summary.dataset_id)
    assert records[0] == {"text": "A man sleeps", "text_pair": "Someone rests", "label": "1", "_line": 1}


def test_json_wrong_types_are_quarantined_with_field(tmp_path, project):
    db, pid = project
    path = tmp_path / "typed.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"prompt": "ok", "response": "fine"}, {"prompt": 5, "response": "x"},
        {"prompt": "a", "response": None}, {"prompt": ["list"], "response": "x"}]))
    import_file(db, pid, path, task="instruction", test_fraction=0)
    reasons = [q["reason"] for q in dataset_stream.quarantine_for_project(db, pid)]
    assert reasons == ["typed.jsonl, line 2, field 'prompt': expected text, got int",
                       "typed.jsonl, line 3, field 'response': empty (null)",
                       "typed.jsonl, line 4, field 'prompt': expected text, got list"]


def test_windows_latin1_keeps_curly_quotes(tmp_path, project):
    db, pid = project
    path = tmp_path / "win.csv"
    path.write_bytes("text,label\n\u201cquoted\u201d caf\u00e9,a\n".encode("cp1252"))
    summary = import_file(db, pid, path, task="classification", test_fraction=0)
    assert summary.encoding == "cp1252"
    assert _records(db, summary.dataset_id)[0]["text"] == "\u201cquoted\u201d caf\u00e9"
