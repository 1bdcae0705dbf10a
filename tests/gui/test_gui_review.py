"""Review panel: rate, correct, blind A/B with reveal, export corrections as data."""

import os

import pytest

from engine.store import datasets, evaluations, projects, runs
from gui.panels.review import ReviewPanel
from gui.screenshot import render

ITEMS = [
    ("Patient asks: how often can I take paracetamol 500 mg?",
     "Every 4 to 6 hours, no more than 4 g in 24 hours.",
     "Take it whenever you feel pain.",
     "Every 4 to 6 hours, at most 8 tablets (4 g) in 24 hours."),
    ("Summarise: 71-year-old man, pneumonia, 5 days, amoxicillin.",
     "Diagnosis: pneumonia. Continue amoxicillin for 5 more days.",
     "The patient is a man.",
     "Diagnosis: pneumonia. Medications: amoxicillin 500 mg three times daily."),
    ("Triage: chest pain radiating to the left arm, sweating.",
     "Level 1: immediate assessment, ECG within 10 minutes.",
     "Level 4.", "Level 1: immediate assessment and ECG."),
]


def evaluated_project(db) -> tuple[int, int]:
    project_id = projects.create(db, "Ward review")
    run_id = runs.create(db, project_id, "evaluate", "evaluate run 1")
    runs.set_summary(db, run_id, {"items": len(ITEMS)})
    evaluations.add_outputs(db, run_id, [
        {"item": i, "side": side, "prompt": prompt, "reference": reference, "output": text,
         "group": "clinic"}
        for i, (prompt, reference, base, tuned) in enumerate(ITEMS)
        for side, text in (("base", base), ("tuned", tuned))])
    return project_id, run_id


@pytest.fixture
def panel(qtbot, db):
    from gui.app import application

    application()  # the window's style sheet
    project_id, run_id = evaluated_project(db)
    widget = ReviewPanel(db, None)
    qtbot.addWidget(widget)
    widget.resize(1100, 720)
    widget.show()
    widget.open_project(project_id)
    return widget, project_id, run_id


def test_rate_and_correct_an_answer(panel, db, qtbot):
    widget, _, run_id = panel
    assert widget.position_label.text() == "Item 1 of 3"
    assert widget.answer_boxes["B"].title() == "Answer B — tuned"
    assert widget.save_review() == []
    assert "Rate at least one" in widget.status_label.text()
    widget.answer_boxes["B"].rating_group.button(4).click()
    widget.correction_edit.setPlainText("Every 4 to 6 hours; never more than 4 g a day.")
    with qtbot.waitSignal(widget.review_saved):
        widget.save_button.click()
    (review,) = evaluations.reviews(db, run_id)
    assert (review["side"], review["rating"], review["blind"]) == ("tuned", 4, 0)
    assert review["correction"].startswith("Every 4 to 6 hours; never")
    assert review["reviewer"]
    assert "1 ratings by 1 reviewer" in widget.agreement_label.text()


def test_blind_ab_hides_names_until_saved_and_records_preference(panel, db):
    widget, _, run_id = panel
    widget.blind_check.setChecked(True)
    widget.show_item(1)
    assert [box.title() for box in widget.answer_boxes.values()] == ["Answer A", "Answer B"]
    sides = widget.sides_of(widget.items[1])
    assert sorted(sides.values()) == ["base", "tuned"]
    tuned_column = next(c for c, s in sides.items() if s == "tuned")
    base_column = next(c for c, s in sides.items() if s == "base")
    widget.answer_boxes[tuned_column].rating_group.button(5).click()
    widget.answer_boxes[base_column].rating_group.button(1).click()
    widget.preference_buttons[tuned_column].setChecked(True)
    assert widget.reveal_label.text() == ""
    assert len(widget.save_review()) == 2
    assert f"{tuned_column} was tuned" in widget.reveal_label.text()
    rows = {r["side"]: r for r in evaluations.reviews(db, run_id)}
    assert rows["tuned"]["blind"] == 1 and rows["tuned"]["preferred"] == 1
    assert rows["base"]["preferred"] == 0
    assert evaluations.preference_pairs(db, run_id)[0]["chosen"] == ITEMS[1][3]
    # the shuffle differs between items but is stable for one item
    assert widget.sides_of(widget.items[1]) == sides
    assert len({tuple(widget.sides_of(item).values()) for item in widget.items}) == 2


def test_export_corrections_as_a_dataset_version(panel, db, qtbot):
    widget, project_id, run_id = panel
    widget.export_corrections()
    assert "no corrected answer" in widget.status_label.text()
    widget.show_item(2)
    widget.answer_boxes["A"].rating_group.button(1).click()
    widget.correction_edit.setPlainText("Level 1: immediate assessment, ECG within 10 minutes.")
    widget.save_review()
    with qtbot.waitSignal(widget.corrections_exported) as signal:
        widget.export_button.click()
    records = datasets.records(db, signal.args[0])
    assert [(r["prompt"], r["response"]) for r in records] == [
        (ITEMS[2][0], "Level 1: immediate assessment, ECG within 10 minutes.")]
    assert "ready for training" in widget.status_label.text()
    widget.show_item(0)
    widget.blind_check.setChecked(True)
    out = os.environ.get("ENCLAVE_SCREENSHOT_DIR")
    render(widget, f"{out}/review.png" if out else "/tmp/enclave-review.png")


def test_blind_ab_stays_base_against_tuned_when_a_compressed_variant_was_evaluated(qtbot, db):
    project_id, run_id = evaluated_project(db)
    evaluations.add_outputs(db, run_id, [
        {"item": i, "side": "tuned 8-bit", "prompt": prompt, "reference": reference,
         "output": tuned, "group": "clinic"}
        for i, (prompt, reference, _, tuned) in enumerate(ITEMS)])
    widget = ReviewPanel(db, None)
    qtbot.addWidget(widget)
    widget.open_project(project_id)
    widget.blind_check.setChecked(True)
    shown = [widget.sides_of(item) for item in widget.items]
    assert all(sorted(sides.values()) == ["base", "tuned"] for sides in shown)
    assert len({tuple(sides.values()) for sides in shown}) == 2
