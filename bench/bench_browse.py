"""Dataset browser benchmark: page load and full-text search on a 1,000,000-record version.

Run: .venv/bin/python bench/bench_browse.py [--n 1000000] [--write-n 100000]

A throw-away workspace gets one version of ``--n`` generated clinical records, written
through the real batch writer (the FTS index is kept in step by its triggers). Then, in the
same run, against the named baseline "naive full load" (``datasets.records``: every record
read and decoded, then the page sliced out; search = substring test over the loaded texts):

* first page, a page deep in the version (after the record at 90 %), a label-filtered page,
  a filter that matches nothing, and the list of labels (both scan every record; the
  window runs the label list and the match count off the main thread);
* search for a rare word (5 records) and a common one, first page of hits;
* the write cost of the index: ``--write-n`` records written with and without the triggers;
* with ``--window``: the real Browse tab (offscreen) opening the version, searching and
  filtering, with the longest main-thread stall of each (a 10 ms timer's largest gap).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_WORDS = ("fever cough headache nausea dizziness rash fatigue swelling pain insomnia "
          "metformin insulin warfarin amoxicillin ibuprofen paracetamol ward clinic follow-up "
          "discharge triage review dose daily twice weekly urgent routine patient reports").split()
_LABELS = ("urgent", "routine", "follow-up", "discharge")
RARE = "zolmitriptan"


def records(n: int, seed: int = 0):
    """n short instruction records with a label; RARE occurs in five of them."""
    rng = random.Random(seed)
    rare_at = set(rng.sample(range(n), 5))
    for i in range(n):
        prompt = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 30)))
        if i in rare_at:
            prompt += f" {RARE}"
        yield {"prompt": prompt, "response": " ".join(rng.choice(_WORDS) for _ in range(12)),
               "label": rng.choice(_LABELS), "_line": i + 1}


def write_version(db, project_id: int, n: int, name: str) -> tuple[int, float]:
    from engine.store import datasets
    from engine.store.dataset_stream import VersionWriter

    started = time.perf_counter()
    writer = VersionWriter(db, project_id, name, "import", role="pool")
    batch: list[dict] = []
    for record in records(n):
        batch.append(record)
        if len(batch) == 5000:
            writer.append(batch, [str(r["_line"]) for r in batch])
            batch = []
    if batch:
        writer.append(batch, [str(r["_line"]) for r in batch])
    dataset_id = writer.finish()
    datasets.publish(db, [dataset_id])
    return dataset_id, time.perf_counter() - started


def timed(func, repeat: int = 5) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def enclave_side(db, dataset_id: int) -> dict[str, float]:
    from engine.store import record_search
    from engine.store.record_search import RecordFilter

    deep_id = db.execute("SELECT id FROM records WHERE dataset_id = ? AND position = ?",
                         [dataset_id, int(0.9 * record_count(db, dataset_id))]).fetchone()[0]
    out = {}
    out["first page"], rows = timed(lambda: record_search.page(db, dataset_id, limit=200))
    assert len(rows) == 200
    out["page at 90 %"], rows = timed(lambda: record_search.page(db, dataset_id, after_id=deep_id))
    assert len(rows) == 200
    out["label filter"], rows = timed(lambda: record_search.page(
        db, dataset_id, RecordFilter(label="urgent")))
    assert len(rows) == 200
    out["filter, no match"], rows = timed(lambda: record_search.page(
        db, dataset_id, RecordFilter(max_chars=40)), repeat=1)
    assert rows == []  # the worst case: a filter that scans the whole version
    out["label list"], found = timed(lambda: record_search.labels(db, dataset_id), repeat=1)
    assert found == sorted(_LABELS), found
    out["search rare"], rows = timed(lambda: record_search.page(
        db, dataset_id, RecordFilter(text=RARE)))
    assert len(rows) == 5, len(rows)
    out["search common"], rows = timed(lambda: record_search.page(
        db, dataset_id, RecordFilter(text="insulin fever")))
    assert len(rows) == 200
    return out


def record_count(db, dataset_id: int) -> int:
    return db.execute("SELECT record_count FROM datasets WHERE id = ?", [dataset_id]).fetchone()[0]


def naive_side(db, dataset_id: int) -> dict[str, float]:
    from engine.store import datasets

    started = time.perf_counter()
    loaded = datasets.records(db, dataset_id)
    load_s = time.perf_counter() - started
    out = {"first page": load_s, "page at 90 %": load_s, "label filter": load_s}
    started = time.perf_counter()
    assert not [r for r in loaded if len(r["prompt"]) + len(r["response"]) <= 40]
    out["filter, no match"] = load_s + time.perf_counter() - started
    started = time.perf_counter()
    assert len({r["label"] for r in loaded}) == len(_LABELS)
    out["label list"] = load_s + time.perf_counter() - started
    for name, words in (("search rare", [RARE]), ("search common", ["insulin", "fever"])):
        started = time.perf_counter()
        hits = [r for r in loaded if all(w in r["prompt"] or w in r["response"] for w in words)]
        out[name] = load_s + time.perf_counter() - started
        assert hits
    return out


def window_stalls(db, project_id: int) -> dict[str, tuple[float, float]]:
    """The Browse tab on the version: for each action, (seconds until its rows were shown,
    longest main-thread stall in ms) measured with a 10 ms timer."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from gui import tasks
    from gui.app import application
    from gui.panels.browse import BrowsePanel

    application()
    panel = BrowsePanel(db)
    panel.resize(1180, 720)
    panel.show()
    application().processEvents()  # the widget's first paint is not part of any action
    clock, ticks = QElapsedTimer(), []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    clock.start()
    timer.start(10)
    actions = {"open version": lambda: panel.set_project(project_id),
               "search common": lambda: panel.search_edit.setText("insulin fever"),
               "filter, no match": lambda: (panel.search_edit.setText(""),
                                            panel.max_spin.setValue(40), panel.apply_filter())}
    out = {}
    for name, action in actions.items():
        loop = QEventLoop()
        panel.records_shown.connect(loop.quit)
        ticks.clear()
        started = clock.elapsed()
        action()
        QTimer.singleShot(60_000, loop.quit)
        loop.exec()
        panel.records_shown.disconnect(loop.quit)
        done = clock.elapsed()
        marks = [started, *ticks, done]
        out[name] = ((done - started) / 1000, max(b - a for a, b in zip(marks, marks[1:])))
    timer.stop()
    tasks.runner().wait(120_000)  # the label list may still be reading
    return out


def write_overhead(n: int) -> tuple[float, float]:
    """Seconds to write n records with the FTS triggers and without them."""
    from engine.store import open_store, projects

    times = []
    for keep_index in (True, False):
        with tempfile.TemporaryDirectory() as folder:
            db = open_store(Path(folder) / "w.sqlite3")
            if not keep_index:
                for name in ("insert", "delete", "update"):
                    db.execute(f"DROP TRIGGER records_fts_{name}")
            _, seconds = write_version(db, projects.create(db, "w"), n, "w")
            times.append(seconds)
            db.close()
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--write-n", type=int, default=100_000)
    parser.add_argument("--window", action="store_true",
                        help="also time the Browse tab's main thread on the version")
    args = parser.parse_args()
    from engine.store import open_store, projects

    with tempfile.TemporaryDirectory() as folder:
        db = open_store(Path(folder) / "w.sqlite3")
        dataset_id, write_s = write_version(db, projects.create(db, "bench"), args.n, "notes")
        print(f"version of {args.n:,} records written in {write_s:.1f} s "
              f"(workspace {(Path(folder) / 'w.sqlite3').stat().st_size / 1e6:.0f} MB)")
        ours = enclave_side(db, dataset_id)
        naive = naive_side(db, dataset_id)
        print(f"{'':16}{'Enclave':>12}{'naive full load':>18}{'ratio':>10}")
        for name, value in ours.items():
            print(f"{name:16}{value * 1000:>10.1f}ms{naive[name] * 1000:>16.0f}ms"
                  f"{naive[name] / value:>9.0f}x")
        if args.window:
            print("Browse tab (real widgets, offscreen): rows shown after / longest "
                  "main-thread stall")
            for name, (seconds, stall) in window_stalls(db, 1).items():
                print(f"  {name:16} {seconds * 1000:>8.0f} ms   stall {stall:>5.0f} ms")
        db.close()
    with_index, without = write_overhead(args.write_n)
    print(f"write {args.write_n:,} records: {with_index:.1f} s with the search index, "
          f"{without:.1f} s without ({with_index / without:.2f}x)")


if __name__ == "__main__":
    main()
