"""Every failure speaks in the window: a plain message in the panel, naming the file, line
and field where there is one, with what to do next in the window's own terms."""

import json
import re
import zipfile

import pytest
from PySide6.QtCore import Qt

from engine.store import jobs, projects
from gui.widgets.messages import for_window

CLI_WORDS = re.compile(r"--[a-z]|\benclave [a-z]|invalid literal|Traceback|Error:")


@pytest.fixture
def data_panel(window, db):
    project_id = projects.create(db, "Ward messages")
    window.refresh_projects()
    window.open_project(project_id)
    panel = dict(window.stage_panels)["Data"]
    return panel, project_id


def _status(panel) -> str:
    text = panel.status_label.text()
    assert not CLI_WORDS.search(text), text
    return text


def _good_file(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(json.dumps({"question": f"q{i}", "answer": f"a{i}"})
                              for i in range(5)))
    return path


def test_an_empty_file_box_is_refused_not_the_working_folder(qtbot, data_panel, db):
    panel, project_id = data_panel
    qtbot.mouseClick(panel.import_button, Qt.LeftButton)
    assert "File box is empty" in _status(panel)
    panel.path_edit.setText("   ")
    assert panel.run_import() is None
    assert jobs.list_for_project(db, project_id) == []
    assert panel.status_label.objectName() == "errorText"


def test_a_binary_file_says_so_and_drops_the_previous_preview(qtbot, data_panel, tmp_path):
    panel, _ = data_panel
    panel.path_edit.setText(str(_good_file(tmp_path)))
    qtbot.mouseClick(panel.preview_button, Qt.LeftButton)
    assert panel.preview_table.rowCount() == 5 and panel.mapping_combos
    binary = tmp_path / "scan.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x01\x02binary")
    panel.path_edit.setText(str(binary))
    qtbot.mouseClick(panel.preview_button, Qt.LeftButton)  # an escaping error fails the test
    text = _status(panel)
    assert "scan.jsonl, line" in text and "binary" in text and "UTF-8" in text
    assert panel.preview is None and panel.preview_table.rowCount() == 0
    assert panel.mapping_combos == {}
    assert panel.run_import() is None  # the old preview is not imported under a new name


def test_a_workbook_asks_for_csv(qtbot, data_panel, tmp_path):
    panel, _ = data_panel
    workbook = tmp_path / "ward.xlsx"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    panel.path_edit.setText(str(workbook))
    qtbot.mouseClick(panel.preview_button, Qt.LeftButton)
    text = _status(panel)
    assert "ward.xlsx" in text and "CSV" in text


def test_a_folder_with_a_file_format_says_which_format_reads_folders(qtbot, data_panel,
                                                                     tmp_path):
    panel, _ = data_panel
    (tmp_path / "notes").mkdir()
    panel.path_edit.setText(str(tmp_path / "notes"))
    panel.format_combo.setCurrentText("jsonl")
    qtbot.mouseClick(panel.preview_button, Qt.LeftButton)
    text = _status(panel)
    assert "notes, line 1" in text and "folder" in text and "text-files" in text


def test_a_missing_file_and_an_unmapped_field_say_what_to_do(qtbot, data_panel, tmp_path):
    panel, _ = data_panel
    panel.path_edit.setText(str(tmp_path / "gone.jsonl"))
    qtbot.mouseClick(panel.preview_button, Qt.LeftButton)
    assert "gone.jsonl" in _status(panel) and "Browse" in _status(panel)
    panel.path_edit.setText(str(_good_file(tmp_path)))
    assert panel.show_preview()
    panel.mapping_combos["response"].setCurrentText("(none)")
    assert panel.run_import() is None
    text = _status(panel)
    assert "notes.jsonl" in text and "response" in text and "Mapping table" in text


def test_a_failed_job_is_told_in_window_terms(data_panel):
    panel, _ = data_panel
    panel.job.job_id, panel.job.what = 41, "Import"
    panel.job._on_job_finished(41, {"state": "failed", "kind": "data.import", "error":
                                "MappingError: notes.jsonl: no column is mapped to field(s) "
                                "response; columns are: q; use --map FIELD=COLUMN"})
    text = _status(panel)
    assert text.startswith("Import failed: notes.jsonl") and "Mapping table" in text


def test_letters_in_a_number_field_name_the_field(qtbot, window, db):
    project_id = projects.create(db, "Ward numbers")
    window.refresh_projects()
    window.open_project(project_id)
    training = dict(window.stage_panels)["Training"]
    training.inputs["batch_size"].setText("four")
    training.start()
    text = training.status_label.text()
    assert "batch size: enter a whole number" in text and "'four'" in text
    assert not CLI_WORDS.search(text), text
    training.inputs["batch_size"].setText("4")
    training.inputs["learning_rate"].setText("fast")
    training.update_estimate()
    assert "learning rate: enter a number" in training.estimate_label.text()
    training.inputs["method"].setCurrentText("dpo")
    training.dpo_options.inputs["beta"].setText("x")
    training.start()
    assert "beta: enter a number" in training.status_label.text()


@pytest.mark.parametrize("message", [
    "DataFormatError: x.bin, line 1: cannot tell the format from the name; pass --format "
    "(one of jsonl, json, csv)",
    "x.json, line 1: expected a JSON array, found 'a'; pass another --format if the file is "
    "not one",
    "compare 'compressed': run 3 has no compressed variant yet; compress it first with "
    "`enclave compress 3 --method ...`",
    "ValueError: run 3 is not a training run of project 1 (see enclave train-runs PROJECT)",
])
def test_engine_advice_for_the_command_line_becomes_window_advice(message):
    assert not CLI_WORDS.search(for_window(message)), for_window(message)


def test_the_dpo_hints_name_no_command():
    from engine.train.preferences import HOW_TO_GET_PAIRS
    from gui.panels.training_dpo import SHORT_HOW_TO

    for text in (for_window(HOW_TO_GET_PAIRS), SHORT_HOW_TO):
        assert "enclave" not in text and "--" not in text and "Review tab" in text
