"""Creating, opening and deleting projects from the main window."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from engine.data.redaction_policy import project_policy
from engine.store import audit, projects


def _create_through_dialog(qtbot, window, name: str):
    qtbot.mouseClick(window.new_button, Qt.LeftButton)
    dialog = window.new_project_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.name_edit, name)
    dialog.description_edit.setText("de-identified notes")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)
    return dialog


def test_create_project_through_dialog_opens_it(qtbot, window, db):
    dialog = _create_through_dialog(qtbot, window, "Ward notes")

    assert not dialog.isVisible()
    project = projects.find(db, "Ward notes")
    assert project is not None and project["description"] == "de-identified notes"
    assert window.project_list.count() == 1
    assert window.current_project_id() == project["id"]
    assert window.stack.currentWidget() is window.tabs
    assert window.project_panel.title_label.text() == "Ward notes"


def test_new_project_offers_the_redaction_policy_clinical_first(qtbot, window, db):
    qtbot.mouseClick(window.new_button, Qt.LeftButton)
    dialog = window.new_project_dialog
    assert dialog.policy() == "clinical" and "HIPAA" in dialog.policy_line.text()
    titles = [dialog.policy_combo.itemText(i) for i in range(dialog.policy_combo.count())]
    assert [t.split()[0] for t in titles] == ["Clinical", "Legal", "General", "Off"]
    dialog.policy_combo.setCurrentIndex(dialog.policy_combo.findData("legal"))
    assert "case files" in dialog.policy_line.text()
    qtbot.keyClicks(dialog.name_edit, "Chambers")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)
    chambers = projects.find(db, "Chambers")["id"]
    assert project_policy(db, chambers) == "legal"
    entry = audit.entries(db, action="project.redaction_policy")[0]
    assert entry["object"] == f"project:{chambers}"  # as create-project --redaction-policy
    _create_through_dialog(qtbot, window, "Ward notes")
    assert project_policy(db, projects.find(db, "Ward notes")["id"]) == "clinical"


def test_duplicate_name_keeps_dialog_open_with_reason(qtbot, window):
    _create_through_dialog(qtbot, window, "Ward notes")
    dialog = _create_through_dialog(qtbot, window, "Ward notes")

    assert dialog.isVisible()
    assert dialog.error_label.isVisible()
    assert "already exists" in dialog.error_label.text()
    assert window.project_list.count() == 1
    dialog.reject()


def test_empty_name_cannot_be_submitted(qtbot, window):
    qtbot.mouseClick(window.new_button, Qt.LeftButton)
    dialog = window.new_project_dialog
    assert not dialog.buttons.button(QDialogButtonBox.Ok).isEnabled()
    dialog.reject()


def test_delete_asks_for_confirmation(qtbot, window, db, monkeypatch):
    keep = projects.create(db, "Keep me")
    doomed = projects.create(db, "Delete me")
    window.refresh_projects()
    window.open_project(doomed)
    questions = []

    def answer(answer_value):
        def question(*args, **kwargs):
            questions.append(args[2])
            return answer_value
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.No))
    qtbot.mouseClick(window.delete_button, Qt.LeftButton)
    assert projects.find(db, "Delete me") is not None

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.Yes))
    with qtbot.waitSignal(window.project_deleted, timeout=10_000):  # off the main thread
        qtbot.mouseClick(window.delete_button, Qt.LeftButton)
    assert projects.find(db, "Delete me") is None
    assert "Delete me" in questions[0]
    assert [window.project_list.item(i).text() for i in range(window.project_list.count())] \
        == ["Keep me"]
    assert window.stack.currentWidget() is window.empty_label
    window.open_project(keep)
    assert window.project_panel.title_label.text() == "Keep me"
