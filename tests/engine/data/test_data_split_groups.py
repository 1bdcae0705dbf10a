"""The import's hold-out split keeps exact and near duplicates on one side."""

from __future__ import annotations

import json
import random

from engine.data.dedup import NearDuplicateIndex, duplicate_groups
from engine.data.importer import import_file
from engine.data.split import held_out_positions
from engine.data.text_fix import record_text
from engine.store import datasets, open_store, projects

WORDS = ("fever cough rash ankle wrist insulin dosage ward triage discharge sutures wound "
         "pressure bandage oxygen asthma inhaler fracture cast crutches allergy penicillin "
         "nausea vomiting headache migraine diet fluids walking stairs shower dressing").split()


def _export_with_duplicates(count: int = 200, seed: int = 0) -> list[dict]:
    """Distinct records, then exact copies and near copies (one word added) of a third."""
    rng = random.Random(seed)
    base = [{"prompt": " ".join(rng.choices(WORDS, k=16)) + "?",
             "response": " ".join(rng.choices(WORDS, k=14)) + "."} for _ in range(count)]
    copies = []
    for record in rng.sample(base, count // 3):
        copies.append(dict(record))
        copies.append({**record, "response": record["response"] + " Call the ward."})
    rows = base + copies
    rng.shuffle(rows)
    return rows


def test_groups_join_exact_and_near_duplicates():
    texts = ["the patient has a cough and a fever since monday morning and feels weak",
             "the patient has a cough and a fever since monday morning and feels weak today",
             "completely different words about a contract between two parties",
             "the patient has a cough and a fever since monday morning and feels weak"]
    groups = duplicate_groups((str(hash(t)), t) for t in texts)
    assert groups[0] == groups[1] == groups[3] != groups[2]


def test_no_group_straddles_the_split_and_the_size_holds():
    groups = [i // 3 for i in range(90)] + list(range(100, 110))
    test = held_out_positions(100, None, 0.2, seed=4, groups=groups)
    assert len(test) == 20
    for group in set(groups):
        sides = {position in test for position, g in enumerate(groups) if g == group}
        assert len(sides) == 1


def test_without_groups_the_split_is_the_plain_one():
    assert held_out_positions(50, None, 0.2, 7) == held_out_positions(
        50, None, 0.2, 7, groups=list(range(50)))


def test_import_puts_no_duplicate_across_train_and_test(tmp_path):
    rows = _export_with_duplicates()
    source = tmp_path / "export.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    db = open_store(tmp_path / "w.sqlite3")
    project_id = projects.create(db, "Dups")
    summary = import_file(db, project_id, source, task="instruction", test_fraction=0.2)

    train = datasets.records(db, summary.train_id)
    test = datasets.records(db, summary.test_id)
    assert len(train) + len(test) == len(rows)
    assert summary.test == len(test) == round(0.2 * len(rows))
    index = NearDuplicateIndex(0.8)
    for position, record in enumerate(train):
        index.add(position, index.signature(record_text(record)))
    assert not any(index.query(index.signature(record_text(r))) for r in test)
    assert 100 <= summary.duplicates <= 2 * (200 // 3) and summary.moved > 0
    recipe = json.loads(datasets.get(db, summary.test_id)["recipe"])
    assert recipe["moved"] == summary.moved
    assert "duplicates stay together" in summary.split_note()
