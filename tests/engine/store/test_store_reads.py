"""Reads the window uses: decoded JSON columns, bounded quarantine pages, path progress."""

from engine.store import datasets, jobs, open_store, projects, reads, runs


def _db(tmp_path):
    return open_store(tmp_path / "workspace.sqlite3")


def test_quarantine_page_reads_only_the_page_and_counts_all(tmp_path):
    db = _db(tmp_path)
    pid = projects.create(db, "Ward")
    version = datasets.add_version(db, pid, "notes", "import", [{"prompt": "a"}], ["h"],
                                   role="pool")
    datasets.add_quarantine(db, version, [{"file": "notes.jsonl", "line": i, "field": "text",
                                           "reason": "empty", "raw": "{}"}
                                          for i in range(1, 1201)])
    rows, total = reads.quarantine_page(db, pid, 500)
    assert total == 1200 and len(rows) == 500
    assert rows[0] == {"line": 1, "field": "text", "reason": "empty"}


def test_runs_come_back_decoded(tmp_path):
    db = _db(tmp_path)
    pid = projects.create(db, "Ward")
    run = runs.create(db, pid, "train", "lora", {"train": {"method": "qlora"}})
    runs.set_summary(db, run, {"loss_end": 1.5})
    assert reads.run(db, run)["summary"] == {"loss_end": 1.5}
    assert reads.train_method(db, run) == "qlora"
    assert reads.run_summary(db, 999) == {} and reads.run(db, 999) is None
    assert [r["id"] for r in reads.runs_of_kind(db, pid, "train")] == [run]
    assert reads.record_count(db, None) == 0


def test_path_progress_and_data_size_follow_the_project(tmp_path):
    db = _db(tmp_path)
    pid = projects.create(db, "Ward")
    assert not any(reads.path_progress(db, pid).values())
    test = datasets.add_version(db, pid, "notes", "import", [{"prompt": "t"}], ["t"],
                                role="test")
    datasets.add_version(db, pid, "notes", "import", [{"prompt": "a"}, {"prompt": "b"}],
                         ["a", "b"], role="pool", test_id=test)
    assert reads.data_size(db, pid) == {"newest": 2, "test": 1}
    job = jobs.create(db, "export", {}, pid)
    jobs.finish(db, job, "succeeded", result={})
    progress = reads.path_progress(db, pid)
    assert progress["data"] and progress["export"] and not progress["train"]


def test_data_size_counts_the_data_brought_not_a_coreset_chosen_from_it(tmp_path):
    """After "Choose examples" the presets still size from the cleaned records: a coreset
    of 2 out of 6 must not make the guide say "Keeps 1 of 2"."""
    db = _db(tmp_path)
    pid = projects.create(db, "Ward")
    rows = [{"prompt": f"q{i}", "response": "a"} for i in range(6)]
    pool = datasets.add_version(db, pid, "notes", "import", rows, [f"h{i}" for i in range(6)],
                                role="pool")
    datasets.add_version(db, pid, "notes-coreset", "selection", rows[:2], ["h0", "h1"],
                         role="train", parent_id=pool)
    assert reads.data_size(db, pid)["newest"] == 6
