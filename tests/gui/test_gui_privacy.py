"""Privacy in the window: the Audit tab, the purge control, the memorization box,
passphrase dialogs and the automatic lock on a real encrypted workspace."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from engine import paths
from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.importer import import_file
from engine.store import audit, encryption, keys, open_store, projects, runs
from gui.passphrase import NewPassphraseDialog, UnlockDialog, advice


@pytest.fixture(autouse=True)
def no_keys_left():
    yield
    keys._keys.clear()


def _tab(window, title):
    return next(window.tabs.widget(i) for i in range(window.tabs.count())
                if window.tabs.tabText(i) == title)


def test_audit_tab_filters_verifies_and_exports(window, db, tmp_path, qtbot):
    ward = projects.create(db, "Ward")
    projects.create(db, "Chambers")
    panel = _tab(window, "Audit")
    panel.set_project(ward)
    assert panel.table_model.rowCount() == 1
    assert panel.table_model.rows[0][3] == "Project created"
    assert panel.table_model.rows[0][1] == audit.actor()
    panel.set_project(None)
    assert panel.table_model.rowCount() == 2
    _verify(qtbot, panel)
    assert panel.problems == [] and "intact" in panel.status_label.text()
    panel.export_csv(tmp_path / "audit.csv")
    assert len(list(csv.DictReader((tmp_path / "audit.csv").open()))) == 2
    conn = sqlite3.connect(paths.workspace_db())
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute("DELETE FROM audit_log WHERE id = 1")
    conn.commit()
    conn.close()
    _verify(qtbot, panel)
    assert panel.problems and "changed outside Enclave" in panel.status_label.text()
    assert panel.verify_button.isEnabled()


def _verify(qtbot, panel):
    """Start the check and wait for its verdict: the click returns at once, the button
    waits, the status says a check is under way."""
    panel.verify()
    assert not panel.verify_button.isEnabled()
    assert "Checking" in panel.status_label.text()
    qtbot.waitUntil(panel.verify_button.isEnabled, timeout=10_000)


def _ward_with_identifiers(db, tmp_path):
    ward = projects.create(db, "Ward")
    rows = [{"prompt": f"Patient Zebulon Quackenbush MRN {4100000 + i} question {i} about "
                       "the discharge plan", "response": f"Answer {i}"} for i in range(10)]
    source = tmp_path / "ward.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    import_file(db, ward, source, task="instruction", test_fraction=0.2, seed=1)
    return ward


def test_purge_box_belongs_to_the_data_panel_and_follows_it(window, db, tmp_path):
    ward = _ward_with_identifiers(db, tmp_path)
    panel = dict(window.stage_panels)["Data"]
    box = panel.purge_box
    assert box.parent() is not None and panel.isAncestorOf(box)
    assert "set_project" not in vars(panel) and "refresh" not in vars(panel)  # not patched
    panel.set_project(ward)
    assert box.project_id == ward and not box.isEnabled()  # no redacting clean yet
    run_clean(db, ward, CleanRecipe(tokenizer="words", redaction="placeholder"))
    panel.refresh()
    assert box.isEnabled() and not box.purge_button.isEnabled()
    panel.set_project(None)
    assert box.project_id is None and not box.isEnabled()


def test_purge_runs_off_the_main_thread_with_the_button_disabled(window, db, tmp_path, qtbot):
    ward = _ward_with_identifiers(db, tmp_path)
    run_clean(db, ward, CleanRecipe(tokenizer="words", redaction="placeholder"))
    panel = dict(window.stage_panels)["Data"]
    panel.set_project(ward)
    box = panel.purge_box
    box.confirm_box.setChecked(True)
    assert box.purge_button.isEnabled()
    with qtbot.waitSignal(box.purged, timeout=20000) as blocker:
        assert box.purge() is True
        assert box.busy and not box.purge_button.isEnabled()  # back to the event loop now
        assert not box.confirm_box.isEnabled() and "rewriting" in box.status_label.text()
    assert blocker.args[0]["records"] > 0 and "Done: removed" in box.status_label.text()
    assert not box.busy and not box.isEnabled()  # nothing left to purge
    assert b"Quackenbush" not in paths.workspace_db().read_bytes()


def test_a_refused_purge_says_why_and_frees_the_button(window, db, tmp_path, qtbot):
    ward = _ward_with_identifiers(db, tmp_path)
    run_clean(db, ward, CleanRecipe(tokenizer="words", redaction="placeholder"))
    panel = dict(window.stage_panels)["Data"]
    panel.set_project(ward)
    box = panel.purge_box
    box.confirm_box.setChecked(True)
    projects.delete(db, ward)  # gone behind the box's back
    with qtbot.waitSignal(box.failed, timeout=20000):
        box.purge()
    assert not box.busy and box.status_label.text()
    assert "Traceback" not in box.status_label.text()


def test_memorization_box_shows_the_newest_check(window, db):
    ward = projects.create(db, "Ward")
    panel = dict(window.stage_panels)["Evaluate"]
    box = panel.memorization_box
    assert panel.isAncestorOf(box) and "set_project" not in vars(panel)
    panel.set_project(ward)
    assert box.project_id == ward
    assert "Not checked yet" in box.verdict_label.text()
    summary = {"source_run": 5, "flagged": True, "sides": {"tuned": {
        "identifier": {"probes": 4, "exact": 0.5, "partial": 0.75},
        "canary": {"probes": 2, "exact": 1.0, "partial": 1.0, "exposure_max": 6.6}}}}
    runs.set_summary(db, runs.create(db, ward, "privacy", "check"), summary)
    box.run_combo.addItem("run 5", 5)
    box.run_combo.setCurrentIndex(box.run_combo.findData(5))
    assert box.table.item(0, 2).text() == "50%" and box.table.item(0, 6).text() == "6.6"
    assert "Do not share it" in box.verdict_label.text()


def test_new_passphrase_dialog_gives_advice_and_refuses_weak_ones(qtbot):
    dialog = NewPassphraseDialog()
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.Ok)
    dialog.first.setText("password1")
    dialog.second.setText("password1")
    assert not ok.isEnabled() and "common" in dialog.advice_label.text()
    dialog.first.setText("heron quarry violin lantern")
    dialog.second.setText("heron quarry violin lantern")
    assert ok.isEnabled() and advice("heron quarry violin lantern")[0] >= 3


def test_unlock_dialog_says_a_wrong_passphrase_plainly(qtbot):
    path = paths.workspace_db()
    encryption.create(path, "heron quarry violin lantern")
    keys.forget(path)
    dialog = UnlockDialog(path)
    qtbot.addWidget(dialog)
    dialog.field.setText("nope")
    dialog._on_ok()
    assert "does not open" in dialog.error_label.text() and keys.key_for(path) is None
    dialog.field.setText("heron quarry violin lantern")
    dialog._on_ok()
    assert dialog.result() == UnlockDialog.Accepted and keys.key_for(path) is not None


def test_encrypted_window_locks_when_idle_and_jobs_keep_running(qtbot, enclave_home):
    from gui.app import application, create_main_window

    path = paths.workspace_db()
    encryption.create(path, "heron quarry violin lantern")
    open_store(path)
    application()
    window = create_main_window(path, lock_minutes=0.01)  # 0.6 s
    qtbot.addWidget(window)
    window.show()
    lock = window.privacy.lock
    job = window.bridge.submit("test.count", {"n": 30, "delay": 0.05})
    with qtbot.waitSignal(lock.locked, timeout=5000):
        pass
    assert not window.centralWidget().isVisible() and lock.is_locked
    lock.dialog.field.setText("wrong")
    lock.dialog._on_ok()
    assert lock.is_locked
    finished = window.bridge.runner.wait(job, timeout=60)
    assert finished["state"] == "succeeded", finished["error"]  # ran on while locked
    with qtbot.waitSignal(lock.unlocked, timeout=2000):
        lock.dialog.field.setText("heron quarry violin lantern")
        lock.dialog._on_ok()
    assert window.centralWidget().isVisible()
    window.bridge.shutdown(grace_s=0.5)


def test_plain_workspace_has_no_lock(window):
    assert window.privacy.lock is None


def test_purge_in_an_encrypted_workspace_uses_the_held_key(qtbot, enclave_home, tmp_path):
    from engine.data.purge import raw_versions
    from gui.app import application, create_main_window

    path = paths.workspace_db()
    encryption.create(path, "heron quarry violin lantern")
    db = open_store(path)
    ward = _ward_with_identifiers(db, tmp_path)
    run_clean(db, ward, CleanRecipe(tokenizer="words", redaction="placeholder"))
    application()
    window = create_main_window(path)
    qtbot.addWidget(window)
    panel = dict(window.stage_panels)["Data"]
    panel.set_project(ward)
    panel.purge_box.confirm_box.setChecked(True)
    with qtbot.waitSignal(panel.purge_box.purged, timeout=20000):
        panel.purge_box.purge()
    assert raw_versions(db, ward) == [] and not panel.purge_box.isEnabled()
    window.bridge.shutdown(grace_s=0.5)
