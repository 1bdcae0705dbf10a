"""Browse tab: paged records, search, filters, what cleaning changed, quarantine export."""

import csv
import os
from pathlib import Path

from engine.store import datasets, projects, runs
from gui.panels.browse import BrowsePanel
from gui.screenshot import render

SYMPTOMS = ("fever", "cough", "rash", "headache")


def _project(db) -> tuple[int, int, int]:
    """A redacting project: an import of 650 records (names in every tenth), a cleaned
    version (names replaced, every 50th record dropped) and two quarantined lines."""
    project_id = projects.create(db, "Ward browse")
    raw = [{"prompt": (f"Patient Anna Berg called about {SYMPTOMS[i % 4]}" if i % 10 == 0
                       else f"Question {i} about {SYMPTOMS[i % 4]}"),
            "response": f"Answer {i}.", "_line": i + 1} for i in range(650)]
    pool = datasets.add_version(db, project_id, "ward", "import", raw,
                                [f"r{i}" for i in range(650)], role="pool")
    datasets.add_quarantine(db, pool, [
        {"file": "/data/ward.jsonl", "line": 651, "field": "response", "reason": "empty field",
         "raw": '{"prompt": "Patient Anna Berg called", "response": ""}'},
        {"file": "/data/ward.jsonl", "line": 652, "field": "", "reason": "broken JSON",
         "raw": "{not json"}])
    kept = [dict(r, prompt=r["prompt"].replace("Anna Berg", "[NAME]")) for i, r in enumerate(raw)
            if i % 50 != 49]
    hashes = [f"c{r['_line']}" if "[NAME]" in r["prompt"] else f"r{r['_line'] - 1}" for r in kept]
    clean = datasets.add_version(db, project_id, "ward-clean", "clean", kept, hashes,
                                 role="train", parent_id=pool,
                                 recipe={"clean": {"redaction": "placeholder"}})
    runs.create(db, project_id, "data.clean", "clean", {"redaction": "placeholder"})
    return project_id, pool, clean


def _panel(qtbot, db):
    from gui.app import application

    application()
    panel = BrowsePanel(db)
    qtbot.addWidget(panel)
    panel.resize(1180, 720)
    panel.show()
    return panel


def _shown_texts(panel) -> list[str]:
    model = panel.records_model
    return [model.data(model.index(row, 2)) for row in range(model.rowCount())]


def test_records_load_page_by_page_and_search_and_flags_narrow_them(qtbot, db, tmp_path):
    project_id, _pool, clean = _project(db)
    panel = _panel(qtbot, db)
    with qtbot.waitSignal(panel.records_shown, timeout=20_000):  # pages come from a worker
        panel.set_project(project_id)
    assert panel.dataset_id() == clean and panel.count_label.text() == "637 records"
    assert panel.records_model.rowCount() == 200  # the first page only
    panel.records_view.scrollToBottom()
    qtbot.waitUntil(lambda: panel.records_model.rowCount() > 200, timeout=20_000)
    with qtbot.waitSignals([panel.count_shown, panel.records_shown], timeout=20_000):
        qtbot.keyClicks(panel.search_edit, "fever answer")  # counted off the main thread
    texts = _shown_texts(panel)
    assert texts and all("fever" in text for text in texts)
    assert panel.count_label.text() == f"{len(texts)} matches"
    panel.search_edit.clear()
    qtbot.waitSignal(panel.records_shown, timeout=20_000).wait()
    with qtbot.waitSignal(panel.records_shown, timeout=20_000):
        panel.flag_combo.setCurrentIndex(panel.flag_combo.findData("changed"))
    texts = _shown_texts(panel)
    assert len(texts) == 65 and all("[NAME]" in text for text in texts)
    html = panel.record_view.toHtml()
    assert "[NAME]" in html and "What cleaning changed" in html and "ffe8a3" in html
    assert "Anna" not in html  # the source record is shown redacted too
    panel.min_spin.setValue(40)
    with qtbot.waitSignal(panel.records_shown, timeout=20_000):
        panel.apply_filter()
    assert all(len(text) >= 40 for text in _shown_texts(panel))
    render(panel, Path(os.environ.get("ENCLAVE_SCREENSHOT_DIR", tmp_path)) / "browse.png")


def test_raw_import_of_a_redacting_project_shows_redacted_text_and_no_search(qtbot, db, tmp_path):
    project_id, pool, _clean = _project(db)
    panel = _panel(qtbot, db)
    panel.set_project(project_id)
    with qtbot.waitSignal(panel.records_shown, timeout=20_000):
        panel.version_combo.setCurrentIndex(panel.version_combo.findData(pool))
    assert not panel.search_edit.isEnabled() and "Search is off" in panel.status_label.text()
    texts = _shown_texts(panel)
    assert texts[0].startswith("Patient [NAME]") and not any("Anna" in t for t in texts)
    with qtbot.waitSignal(panel.records_shown, timeout=20_000):
        panel.flag_combo.setCurrentIndex(panel.flag_combo.findData("removed"))
    assert len(_shown_texts(panel)) == 13
    panel.tabs.setCurrentIndex(1)
    assert panel.tabs.tabText(1) == "Quarantine (2)"
    model = panel.quarantine_model
    assert model.rowCount() == 2 and model.data(model.index(0, 3)) == "empty field"
    assert "Anna" not in model.data(model.index(0, 4))
    out = tmp_path / "bad.csv"
    assert panel.export_quarantine(out) == 2
    rows = list(csv.reader(out.open()))
    assert [r[3] for r in rows[1:]] == ["empty field", "broken JSON"]
    assert not any("Anna" in cell for row in rows for cell in row)
    render(panel, Path(os.environ.get("ENCLAVE_SCREENSHOT_DIR", tmp_path)) / "browse-quarantine.png")


def test_labels_are_listed_off_the_main_thread_and_filter_the_table(qtbot, db):
    project_id = projects.create(db, "Triage")
    records = [{"text": f"note {i}", "label": ("urgent", "routine", "review")[i % 3], "_line": i}
               for i in range(300)]
    dataset_id = datasets.add_version(db, project_id, "triage", "import", records,
                                      [str(i) for i in range(300)], role="pool")
    panel = _panel(qtbot, db)
    panel.set_project(project_id)
    assert panel.dataset_id() == dataset_id and not panel.records_view.isColumnHidden(3)
    qtbot.waitUntil(lambda: panel.label_combo.count() == 4, timeout=20_000)
    assert [panel.label_combo.itemText(i) for i in range(4)] == \
        ["any label", "review", "routine", "urgent"]
    with qtbot.waitSignals([panel.count_shown, panel.records_shown], timeout=20_000):
        panel.label_combo.setCurrentIndex(panel.label_combo.findText("urgent"))
    assert panel.count_label.text() == "100 matches"
    model = panel.records_model
    assert {model.data(model.index(r, 3)) for r in range(model.rowCount())} == {"urgent"}
