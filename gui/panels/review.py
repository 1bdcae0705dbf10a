"""Expert review of an evaluation: rate answers 1–5, correct them, compare blind A/B.

Each item shows the prompt, the reference and two answers side by side (base and tuned).
In blind mode the sides are shuffled per item and named only "A" and "B"; the model names
are revealed after the ratings are saved. Corrections can be exported as a new dataset
version for training.
"""

from __future__ import annotations

import random

import sqlite_utils
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine.evaluate.corrections import export_corrections
from engine.evaluate.display import shown_items
from engine.store import evaluations, reads
from gui.widgets.run_picker import fill_run_picker

COLUMNS = ("A", "B")


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


def _text_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    label.setAlignment(Qt.AlignTop | Qt.AlignLeft)
    return label


class AnswerBox(QGroupBox):
    """One answer with its 1–5 rating buttons."""

    def __init__(self, column: str, parent=None) -> None:
        super().__init__(f"Answer {column}", parent)
        self.answer_label = _text_label()
        self.rating_group = QButtonGroup(self)
        ratings = QHBoxLayout()
        ratings.addWidget(QLabel("Rating"))
        for value in range(1, 6):
            button = QPushButton(str(value))
            button.setCheckable(True)
            button.setFixedWidth(36)
            self.rating_group.addButton(button, value)
            ratings.addWidget(button)
        ratings.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.answer_label, 1)
        layout.addLayout(ratings)

    def rating(self) -> int | None:
        """The chosen rating, or None."""
        value = self.rating_group.checkedId()
        return value if value > 0 else None

    def set_rating(self, value: int | None) -> None:
        """Check the button of ``value`` (None clears)."""
        self.rating_group.setExclusive(False)
        for button in self.rating_group.buttons():
            button.setChecked(self.rating_group.id(button) == value)
        self.rating_group.setExclusive(True)


class ReviewPanel(QWidget):
    """Review the items of a project's evaluation runs.

    Signals:
        review_saved(item): the ratings of an item were stored.
        corrections_exported(dataset_id): corrections became a dataset version.
    """

    review_saved = Signal(int)
    corrections_exported = Signal(int)

    def __init__(self, db: sqlite_utils.Database, bridge=None, parent=None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self.run_id: int | None = None
        self.items: list[dict] = []
        self.index = 0
        self._build_widgets()
        self._build_layout()

    def _build_widgets(self) -> None:
        self.run_combo = QComboBox()
        self.run_combo.currentIndexChanged.connect(self._on_run_chosen)
        self.blind_check = QCheckBox("Blind A/B (hide model names)")
        self.blind_check.toggled.connect(lambda _: self.show_item(self.index))
        self.prev_button, self.next_button = QPushButton("◀ Previous"), QPushButton("Next ▶")
        self.prev_button.clicked.connect(lambda: self.show_item(self.index - 1))
        self.next_button.clicked.connect(lambda: self.show_item(self.index + 1))
        self.position_label = QLabel("No evaluation yet")
        self.prompt_label, self.reference_label = _text_label(), _text_label()
        self.answer_boxes = {column: AnswerBox(column) for column in COLUMNS}
        self.preference_group = QButtonGroup(self)
        self.preference_buttons = {}
        for key, text in (("A", "A is better"), ("B", "B is better"), ("", "No preference")):
            button = QRadioButton(text)
            self.preference_group.addButton(button)
            self.preference_buttons[key] = button
        self.preference_buttons[""].setChecked(True)
        self.correction_edit = QPlainTextEdit()
        self.correction_edit.setPlaceholderText("Corrected answer (optional): becomes training data")
        self.correction_edit.setMaximumHeight(90)
        self.save_button = QPushButton("Save review")
        self.save_button.setObjectName("primaryButton")
        self.save_button.clicked.connect(self.save_review)
        self.export_button = QPushButton("Export corrections as data")
        self.export_button.clicked.connect(self.export_corrections)
        self.reveal_label = QLabel()
        self.status_label = QLabel()
        self.status_label.setObjectName("subtitle")
        self.agreement_label = QLabel()
        self.agreement_label.setObjectName("subtitle")

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Evaluation"))
        top.addWidget(self.run_combo, 1)
        top.addWidget(self.blind_check)
        top.addWidget(self.prev_button)
        top.addWidget(self.position_label)
        top.addWidget(self.next_button)
        answers = QGridLayout()
        for column, name in enumerate(COLUMNS):
            answers.addWidget(self.answer_boxes[name], 0, column)
        preference = QHBoxLayout()
        for button in self.preference_buttons.values():
            preference.addWidget(button)
        preference.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.reveal_label, 1)
        actions.addWidget(self.export_button)
        actions.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(_title("Prompt"))
        layout.addWidget(self.prompt_label)
        layout.addWidget(_title("Reference answer"))
        layout.addWidget(self.reference_label)
        layout.addLayout(answers, 1)
        layout.addLayout(preference)
        layout.addWidget(_title("Correction"))
        layout.addWidget(self.correction_edit)
        layout.addLayout(actions)
        layout.addWidget(self.status_label)
        layout.addWidget(self.agreement_label)

    # ----- runs and items ------------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project: clear the previous one's items, answers, ratings and
        messages, then list this one's evaluations and show the newest."""
        self.project_id = project_id
        self.run_combo.clear()
        self.status_label.setText("")
        self.show_run(None)
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload the evaluations, newest first, keeping the one under review."""
        fill_run_picker(self.run_combo, self.db, self.project_id, ("evaluate",),
                        keep=self.run_id)
        if self.run_combo.currentData() != self.run_id:
            self._on_run_chosen()

    def _on_run_chosen(self, *_args) -> None:
        run_id = self.run_combo.currentData()
        self.show_run(run_id) if run_id is not None else self.show_run(None)

    def show_run(self, run_id: int | None) -> None:
        """Load the items of an evaluation run and show the first."""
        self.run_id = run_id
        self.items = shown_items(self.db, run_id) if run_id is not None else []
        self._update_agreement()
        self.show_item(0)

    def sides_of(self, item: dict) -> dict[str, str]:
        """Which model side each column shows: fixed (A = base) or shuffled when blind."""
        # A/B is base against tuned; compressed variants ("tuned 8-bit") are not reviewed here
        sides = [s for s in ("base", "tuned") if s in item["outputs"]] or sorted(item["outputs"])
        sides = sides[:2]
        if self.blind_check.isChecked() and len(sides) == 2:
            rng = random.Random(f"{self.run_id}:{item['item']}")
            if rng.random() < 0.5:
                sides.reverse()
        return dict(zip(COLUMNS, sides))

    def show_item(self, index: int) -> None:
        """Show item ``index`` (clamped) with empty ratings."""
        has_items = bool(self.items)
        for widget in (self.save_button, self.export_button, self.prev_button, self.next_button):
            widget.setEnabled(has_items)
        if not has_items:
            self.position_label.setText("No evaluation yet")
            for label in (self.prompt_label, self.reference_label, self.reveal_label,
                          *(box.answer_label for box in self.answer_boxes.values())):
                label.setText("")
            self.correction_edit.clear()
            return
        self.index = max(0, min(index, len(self.items) - 1))
        item = self.items[self.index]
        self.position_label.setText(f"Item {self.index + 1} of {len(self.items)}")
        self.prompt_label.setText(item["prompt"])
        self.reference_label.setText(item["reference"])
        blind = self.blind_check.isChecked()
        sides = self.sides_of(item)
        for column, box in self.answer_boxes.items():
            side = sides.get(column)
            box.setVisible(side is not None)
            box.setTitle(f"Answer {column}" if blind or side is None else f"Answer {column} — {side}")
            box.answer_label.setText(item["outputs"].get(side, "") if side else "")
            box.set_rating(None)
        self.preference_buttons[""].setChecked(True)
        self.correction_edit.clear()
        self.reveal_label.setText("")

    # ----- saving ----------------------------------------------------------------------

    def save_review(self) -> list[int]:
        """Store the ratings shown (and correction, preference) of the current item.

        Returns:
            The ids of the stored reviews ([] when nothing was rated).
        """
        if not self.items:
            return []
        item, sides = self.items[self.index], self.sides_of(self.items[self.index])
        rated = {column: box.rating() for column, box in self.answer_boxes.items()
                 if column in sides and box.rating() is not None}
        if not rated:
            self.status_label.setText("Rate at least one answer (1 = wrong … 5 = ready to use).")
            return []
        preferred = next((k for k, b in self.preference_buttons.items() if b.isChecked()), "")
        correction = self.correction_edit.toPlainText().strip()
        target = "tuned" if "tuned" in [sides[c] for c in rated] else sides[next(iter(rated))]
        blind = self.blind_check.isChecked()
        ids = [evaluations.add_review(
            self.db, self.run_id, item["item"], sides[column], rating,
            correction=correction if sides[column] == target else "", blind=blind,
            preferred=(column == preferred) if preferred and len(sides) == 2 else None)
            for column, rating in rated.items()]
        if blind:
            self.reveal_label.setText("Revealed: " + ", ".join(
                f"{column} was {side}" for column, side in sides.items()))
        self.status_label.setText(f"Saved {len(ids)} rating(s) for item {self.index + 1}.")
        self._update_agreement()
        self.review_saved.emit(item["item"])
        return ids

    def export_corrections(self) -> int | None:
        """Store the run's corrections as a new dataset version; returns its id."""
        if self.run_id is None or self.project_id is None:
            return None
        try:
            dataset_id = export_corrections(self.db, self.project_id, self.run_id)
        except ValueError as exc:
            self.status_label.setText(str(exc))
            return None
        count = reads.record_count(self.db, dataset_id)
        self.status_label.setText(f"Exported {count} corrected answer(s) as dataset "
                                  f"{dataset_id} (expert-corrections): ready for training.")
        self.corrections_exported.emit(dataset_id)
        return dataset_id

    def _update_agreement(self) -> None:
        if self.run_id is None:
            self.agreement_label.setText("")
            return
        latest = evaluations.latest_reviews(self.db, self.run_id)
        reviewers = sorted({row["reviewer"] for row in latest})
        agreement = evaluations.reviewer_agreement(self.db, self.run_id)
        means = {}
        for row in latest:
            means.setdefault(row["side"], []).append(row["rating"])
        shown = ", ".join(f"{side} {sum(v) / len(v):.2f}" for side, v in sorted(means.items()))
        text = f"{len(latest)} ratings by {len(reviewers)} reviewer(s); mean: {shown or '–'}"
        if agreement["exact"] is not None:
            text += (f"; agreement on {agreement['shared']} shared outputs: "
                     f"{agreement['exact']:.0%} exact, {agreement['within_one']:.0%} within one")
        self.agreement_label.setText(text)



