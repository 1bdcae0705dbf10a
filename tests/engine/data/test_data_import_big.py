"""A whole import keeps its memory flat as the file grows, and splits exactly as before:
the duplicate groups and held-out positions worked out in the store equal the in-memory
ones (engine.data.dedup.duplicate_groups, engine.data.split.held_out_positions)."""

from __future__ import annotations

import csv
import json
import random
import tracemalloc

import numpy as np
import pytest

from engine.data import importer
from engine.data.dedup import MinHasher, duplicate_groups
from engine.data.importer import import_file
from engine.data.split import held_out_mask, held_out_positions
from engine.data.split_groups import signatures, stored_groups
from engine.data.text_fix import record_text
from engine.progress import Cancelled, Reporter
from engine.store import datasets, open_store, projects

WORDS = ("fever cough rash ankle wrist insulin dosage ward triage discharge sutures wound "
         "pressure bandage oxygen asthma inhaler fracture cast crutches allergy penicillin "
         "nausea vomiting headache migraine diet fluids walking stairs shower dressing").split()


def _write_export(path, count: int, seed: int = 0) -> None:
    """A labelled CSV: distinct notes, exact copies and near copies (a word added)."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        if rows and i % 5 == 0:
            rows.append(dict(rng.choice(rows)))
        elif rows and i % 7 == 0:
            source = rng.choice(rows)
            rows.append({**source, "history": source["history"] + " stable"})
        else:
            rows.append({"history": " ".join(rng.choices(WORDS, k=24)),
                         "label": rng.choice(["admit", "observe", "discharge"])})
    with open(path, "w", newline="") as stream:
        writer = csv.DictWriter(stream, ["history", "label"])
        writer.writeheader()
        writer.writerows(rows)


def _import(tmp_path, count: int, name: str = "notes"):
    source = tmp_path / f"{name}.csv"
    _write_export(source, count)
    db = open_store(tmp_path / f"{name}.sqlite3")
    project = projects.create(db, name, task="classification")
    summary = import_file(db, project, source, task="classification",
                          mapping={"text": "history"}, test_fraction=0.2, seed=3)
    return db, summary


def test_batch_signatures_equal_one_at_a_time():
    hasher = MinHasher(64, 0)
    texts = ["", "one", "two words", "Three Words here", "a b c d e f g a b c",
             " ".join(random.Random(1).choices(WORDS, k=400))] * 3
    assert np.array_equal(signatures(texts, hasher),
                          np.stack([hasher.signature(t) for t in texts]))


@pytest.mark.parametrize("seed", range(6))
def test_mask_equals_held_out_positions(seed):
    rng = random.Random(seed)
    count = rng.randint(2, 400)
    roots = []
    for position in range(count):  # a group's first record is its smallest position
        roots.append(rng.choice(roots) if roots and rng.random() < 0.3 else position)
    roots = [roots[r] for r in roots]
    names = ["b", "a", "10", "None"]
    codes = [rng.randrange(len(names)) for _ in range(count)]
    fraction = rng.choice([0.05, 0.2, 0.5])
    for labels, code_array in ((None, None), ([names[c] for c in codes], np.array(codes))):
        expected = held_out_positions(count, labels, fraction, seed, roots)
        mask = held_out_mask(np.array(roots), code_array, names, fraction, seed)
        assert set(np.flatnonzero(mask).tolist()) == expected


def test_stored_groups_equal_in_memory_groups_across_batches(tmp_path):
    db, summary = _import(tmp_path, 300)
    pool = summary.dataset_id
    rows = db.execute("SELECT content_hash, data, json_extract(data, '$.label') FROM records "
                      "WHERE dataset_id = ? ORDER BY position", [pool]).fetchall()
    expected = duplicate_groups((digest, record_text(json.loads(data))) for digest, data, _ in rows)
    groups = stored_groups(db, pool, summary.records, labelled=True, batch=7)
    assert groups.roots.tolist() == expected
    assert [groups.names[c] for c in groups.codes] == [str(label) for *_, label in rows]
    assert summary.duplicates == len(expected) - len(set(expected)) > 0
    assert not db.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'").fetchall()


def test_import_split_is_the_in_memory_split(tmp_path):
    db, summary = _import(tmp_path, 300)
    rows = db.execute("SELECT content_hash, data, json_extract(data, '$.label') FROM records "
                      "WHERE dataset_id = ? ORDER BY position", [summary.dataset_id]).fetchall()
    groups = duplicate_groups((digest, record_text(json.loads(data))) for digest, data, _ in rows)
    labels = [label for *_, label in rows]
    test = held_out_positions(len(rows), labels, 0.2, 3, groups)
    plain = held_out_positions(len(rows), labels, 0.2, 3)
    stored_test = [row[0] for row in db.execute(
        "SELECT content_hash FROM records WHERE dataset_id = ? ORDER BY position",
        [summary.test_id])]
    assert stored_test == [rows[p][0] for p in sorted(test)]
    assert (summary.test, summary.train) == (len(test), len(rows) - len(test))
    assert summary.moved == len(plain ^ test) > 0
    train = datasets.get(db, summary.train_id)
    assert train["record_count"] == summary.train and train["test_id"] == summary.test_id


def _peak_import(tmp_path, count: int) -> int:
    tracemalloc.start()
    try:
        _import(tmp_path, count, f"n{count}")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_of_a_whole_import_stays_flat(tmp_path, monkeypatch):
    """Four times the records in batches of 100 must not take much more memory: nothing
    is kept per record in Python objects (4 + 4 bytes per record in arrays)."""
    monkeypatch.setattr(importer, "BATCH", 100)
    _peak_import(tmp_path, 200)  # imports and caches everything once
    small, large = _peak_import(tmp_path, 500), _peak_import(tmp_path, 2000)
    assert large - small < 250_000, (small, large)


def _index_matches_records(db) -> None:
    db.execute("INSERT INTO records_fts (records_fts) VALUES ('integrity-check')")
    indexed = db.execute("SELECT count(*) FROM records_fts WHERE records_fts MATCH 'fever'")
    stored = db.execute("SELECT count(*) FROM records WHERE data LIKE '%fever%'")
    assert indexed.fetchone() == stored.fetchone()


def test_search_index_holds_every_imported_record(tmp_path):
    """Building versions are indexed by their writer a batch at a time (schema v10), the
    rest by the trigger; a cancelled import takes its entries with it."""
    from engine.store import record_search
    from engine.store.record_search import RecordFilter

    db, summary = _import(tmp_path, 300)
    project = datasets.get(db, summary.dataset_id)["project_id"]
    datasets.add_version(db, project, "typed", "import",
                         [{"text": "fever typed by hand", "label": "admit"}], ["h"],
                         role=datasets.POOL)
    for version, total in ((summary.dataset_id, summary.records),
                           (summary.train_id, summary.train), (summary.test_id, summary.test)):
        found = db.execute("SELECT count(*) FROM records WHERE dataset_id = ? AND "
                           "data LIKE '%fever%'", [version]).fetchone()[0]
        assert 0 < found < total
        assert record_search.count(db, version, RecordFilter(text="fever")) == (found, True)
    _index_matches_records(db)

    def split_written() -> bool:  # cancel once the train and test versions hold records
        return db.execute("SELECT count(*) FROM datasets WHERE state = 'building' AND "
                          "kind = 'split' AND record_count > 0").fetchone()[0] == 2
    with pytest.raises(Cancelled):
        import_file(db, project, tmp_path / "notes.csv", task="classification",
                    mapping={"text": "history"}, test_fraction=0.2, seed=3,
                    reporter=Reporter(stop_requested=split_written))
    assert not db.execute("SELECT count(*) FROM datasets WHERE state = 'building'").fetchone()[0]
    _index_matches_records(db)
