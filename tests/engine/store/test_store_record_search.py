"""Browsing a version: keyset pages, filters, full-text search kept in step with writes."""

import pytest

from engine import paths
from engine.store import datasets, open_store, projects, record_search, schema
from engine.store.dataset_stream import VersionWriter
from engine.store.record_search import RecordFilter


def _version(db, project_id, records, name="notes", kind="import", role="pool", parent_id=None):
    return datasets.add_version(db, project_id, name, kind, records,
                                [f"h{name}{i}-{r.get('prompt')}" for i, r in enumerate(records)],
                                role=role, parent_id=parent_id)


@pytest.fixture
def db():
    return open_store(paths.workspace_db())


def test_pages_follow_position_order_without_gaps(db):
    project_id = projects.create(db, "Ward")
    records = [{"prompt": f"question {i}", "response": f"answer {i}", "_line": i + 1}
               for i in range(450)]
    dataset_id = _version(db, project_id, records)
    seen, after = [], 0
    while True:
        rows = record_search.page(db, dataset_id, after_id=after, limit=200)
        if not rows:
            break
        seen += [row.position for row in rows]
        after = rows[-1].id
    assert seen == list(range(450))
    assert record_search.count(db, dataset_id) == (450, True)


def test_search_finds_words_of_one_version_only_and_follows_discard(db):
    project_id = projects.create(db, "Ward")
    first = _version(db, project_id, [{"prompt": "fever and cough", "response": "rest"},
                                      {"prompt": "broken arm", "response": "cast"}])
    second = _version(db, project_id, [{"prompt": "fever again", "response": "fluids"}],
                      name="other")
    found = record_search.page(db, first, RecordFilter(text="fever"))
    assert [row.data["prompt"] for row in found] == ["fever and cough"]
    assert [r.data["prompt"] for r in record_search.page(db, first, RecordFilter(text="feve"))] \
        == ["fever and cough"]  # the last word matches as a prefix
    assert record_search.page(db, first, RecordFilter(text="prompt")) == []  # keys not indexed
    assert record_search.page(db, first, RecordFilter(text='"; DROP')) == []  # quoted safely
    writer = VersionWriter(db, project_id, "building", "import", role="pool")
    writer.append([{"prompt": "fever while building", "response": "x"}], ["hb"])
    assert record_search.page(db, writer.dataset_id, RecordFilter(text="building"))
    datasets.discard(db, [writer.dataset_id])
    left = db.execute("SELECT count(*) FROM records_fts WHERE records_fts MATCH 'building'")
    assert left.fetchone()[0] == 0
    assert len(record_search.page(db, second, RecordFilter(text="fever"))) == 1


def test_filters_label_length_and_cleaning_flags(db):
    project_id = projects.create(db, "Triage")
    raw = [{"text": "Patient Anna Berg, chest pain", "label": "urgent", "_line": 1},
           {"text": "sprained ankle", "label": "routine", "_line": 2},
           {"text": "duplicate note", "label": "routine", "_line": 3}]
    parent = _version(db, project_id, raw, role="train", kind="split")
    cleaned = [{"text": "Patient [NAME], chest pain", "label": "urgent", "_line": 1},
               {"text": "sprained ankle", "label": "routine", "_line": 2}]
    child = datasets.add_version(db, project_id, "notes-clean", "clean", cleaned,
                                 ["c1", raw and "hnotes1-None"], role="train", parent_id=parent)
    assert record_search.labels(db, parent) == ["routine", "urgent"]
    by_label = record_search.page(db, parent, RecordFilter(label="urgent"))
    assert [row.line for row in by_label] == [1]
    short = record_search.page(db, parent, RecordFilter(max_chars=14))
    assert [row.data["text"] for row in short] == ["sprained ankle", "duplicate note"]
    assert [r.line for r in record_search.page(db, parent, RecordFilter(min_chars=20))] == [1]
    assert [r.line for r in record_search.page(db, child, RecordFilter(flag="changed"))] == [1]
    assert [r.line for r in record_search.page(db, child, RecordFilter(flag="placeholder"))] == [1]
    assert [r.line for r in record_search.page(db, parent, RecordFilter(flag="removed"))] == [3]
    assert record_search.flag_available(db, parent, "removed")
    assert not record_search.flag_available(db, child, "removed")
    assert record_search.source_record(db, child, 1)["text"].startswith("Patient Anna")
    assert record_search.count(db, parent, RecordFilter(label="routine")) == (2, True)
    with pytest.raises(ValueError, match="flag 'odd'"):
        RecordFilter(flag="odd")


def test_upgrade_indexes_records_written_before_search_existed(enclave_home):
    path = paths.workspace_db()
    path.parent.mkdir(parents=True, exist_ok=True)
    import sqlite_utils

    old = sqlite_utils.Database(path)
    before = schema.MIGRATIONS.index(schema._v7_record_search)
    schema.migrate(old, path, target=before)
    project_id = projects.create(old, "Old")
    dataset_id = _version(old, project_id, [{"prompt": "insulin dose", "response": "ask"}])
    old.close()
    db = open_store(path)
    assert schema.version(db) == schema.LATEST
    assert len(record_search.page(db, dataset_id, RecordFilter(text="insulin"))) == 1


def test_discard_removes_parents_and_children_in_any_order_given(db):
    project_id = projects.create(db, "Ward")
    pool = VersionWriter(db, project_id, "notes", "import", role="pool")
    pool.append([{"prompt": "pool row", "response": "x"}], ["hp"])
    train = VersionWriter(db, project_id, "notes-train", "split", role="train",
                          parent_id=pool.dataset_id)
    train.append([{"prompt": "train row", "response": "y"}], ["ht"])
    assert datasets.discard(db, [pool.dataset_id, train.dataset_id]) == 2  # parent named first
    assert db.execute("SELECT count(*) FROM datasets").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM records").fetchone()[0] == 0
