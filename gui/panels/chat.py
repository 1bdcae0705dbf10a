"""Chat tab: ask a model of the project a question and watch the answer being written.

Pick a training run and the model that answers (the base, the tuned model or a compressed
variant), optionally a second one side by side, type a prompt and press Ask. The answer
streams in as the ``chat`` job writes it (a job process like every other job, stopped by
Stop). Details shows the chat template the models use and the generation settings.
Send to Review keeps the prompt and answers as an item the Review tab rates and corrects.
In a project that redacts, the prompt is redacted before the job (and its stored
parameters) ever holds it, and every text shown here comes redacted from the job.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils
from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.data.privacy import display_redactor
from engine.evaluate.chat import ChatRecipe, chat_sides, send_to_review
from gui.jobs import follow_jobs
from gui.widgets.run_picker import fill_run_picker
from gui.widgets.status import show_status

TRAIN_KINDS = ("train", "train.dpo")


def chat_template_text(folder: Path) -> str:
    """The chat template a model folder's tokenizer carries ("" when none), read from
    ``chat_template.jinja`` or ``tokenizer_config.json`` without loading any model library."""
    jinja = Path(folder) / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(errors="replace")
    try:
        config = json.loads((Path(folder) / "tokenizer_config.json").read_text())
    except (OSError, ValueError):
        return ""
    template = config.get("chat_template") or ""
    return template if isinstance(template, str) else json.dumps(template)


class AnswerBox(QGroupBox):
    """One model's answer, growing as it is written."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setReadOnly(True)
        self.text_edit.setAccessibleName(f"{title} answer")
        layout = QVBoxLayout(self)
        layout.addWidget(self.text_edit)

    def show_text(self, text: str) -> None:
        """Replace the answer shown."""
        self.text_edit.setPlainText(text)


class ChatPanel(QWidget):
    """Try the project's models on a prompt.

    Signals:
    """


    def __init__(self, db: sqlite_utils.Database, bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.bridge = db, bridge
        self.project_id: int | None = None
        self.review_run_id: int | None = None
        self.answers: dict[str, str] = {}
        self.asked: dict | None = None
        self._build_widgets()
        self._build_layout()
        self._wire_job()

    # ----- building ---------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.run_combo = QComboBox()
        self.run_combo.setAccessibleName("Training run")
        self.run_combo.currentIndexChanged.connect(self._on_run_chosen)
        self.side_combo = QComboBox()
        self.side_combo.setAccessibleName("Model that answers")
        for combo, chars in ((self.run_combo, 24), (self.side_combo, 10)):
            combo.setMinimumContentsLength(chars)
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.side_combo.setToolTip("base: the model before it was taught; tuned: the model "
                                   "taught on your data; tuned 8-bit etc.: a smaller copy")
        self.compare_check = QCheckBox("Side by side with")
        self.compare_check.toggled.connect(self._on_compare_toggled)
        self.other_combo = QComboBox()
        self.other_combo.setAccessibleName("Second model")
        self.other_combo.setMinimumContentsLength(10)
        self.other_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setAccessibleName("Prompt")
        self.prompt_edit.setPlaceholderText("Ask the model something, as a user of it would…")
        self.prompt_edit.setMaximumHeight(96)
        self.ask_button = QPushButton("Ask")
        self.ask_button.setObjectName("primary")
        self.ask_button.clicked.connect(self.ask)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(lambda: self.job.cancel())
        self.review_button = QPushButton("Send to Review")
        self.review_button.setToolTip("Keep this prompt and the answers as an item to rate "
                                      "and correct in the Review tab")
        self.review_button.setEnabled(False)
        self.review_button.clicked.connect(self.send_to_review)
        self.details_check = QCheckBox("Details")
        self.details_check.setToolTip("Show the chat template and the generation settings")
        self.details_check.toggled.connect(lambda on: self.details_box.setVisible(on))
        self.answer_boxes = [AnswerBox("Answer"), AnswerBox("Second answer")]
        self.status_label = QLabel()
        self.status_label.setObjectName("subtitle")
        self.status_label.setWordWrap(True)
        self._build_details()

    def _build_details(self) -> None:
        self.details_box = QGroupBox("Chat template and generation settings")
        self.system_edit = QLineEdit()
        self.system_edit.setPlaceholderText("optional, e.g. 'You answer ward nurses briefly.'")
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 2.0)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setToolTip("0 always picks the likeliest word (same answer each "
                                         "time); higher values give more varied answers")
        self.tokens_spin = QSpinBox()
        self.tokens_spin.setRange(1, 2048)
        self.tokens_spin.setValue(128)
        self.tokens_spin.setToolTip("The answer stops after this many tokens (a token is "
                                    "about three quarters of a word)")
        self.template_view = QPlainTextEdit()
        self.template_view.setReadOnly(True)
        self.template_view.setMaximumHeight(80)
        form = QFormLayout(self.details_box)
        form.addRow("System message", self.system_edit)
        form.addRow("Temperature", self.temperature_spin)
        form.addRow("Max tokens", self.tokens_spin)
        form.addRow("Chat template", self.template_view)
        self.details_box.setVisible(False)

    def _build_layout(self) -> None:
        pick = QGridLayout()
        pick.addWidget(QLabel("Run"), 0, 0)
        pick.addWidget(self.run_combo, 0, 1, 1, 3)
        pick.addWidget(QLabel("Model"), 1, 0)
        pick.addWidget(self.side_combo, 1, 1)
        pick.addWidget(self.compare_check, 1, 2)
        pick.addWidget(self.other_combo, 1, 3)
        pick.setColumnStretch(1, 1)
        pick.setColumnStretch(3, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.details_check)
        buttons.addWidget(self.status_label, 1)
        for button in (self.stop_button, self.review_button, self.ask_button):
            buttons.addWidget(button)
        answers = QGridLayout()
        for column, box in enumerate(self.answer_boxes):
            answers.addWidget(box, 0, column)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(pick)
        layout.addWidget(self.details_box)
        layout.addWidget(self.prompt_edit)
        layout.addLayout(buttons)
        layout.addLayout(answers, 1)
        self._on_compare_toggled(False)

    def _wire_job(self) -> None:
        """Jobs go through the window's job controller (one place to swap)."""
        self.job = follow_jobs(self.bridge, self)
        self.job.busy_widgets = [self.ask_button, self.review_button]
        self.job.cancel_button, self.job.status_label = self.stop_button, self.status_label
        self.job.describe_progress = _progress_text
        self.job.progressed.connect(self._on_progress)
        self.job.succeeded.connect(self._on_succeeded)
        self.job.failed.connect(lambda _message: self.review_button.setEnabled(False))

    # ----- project and runs -------------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show another project: nothing of the previous one stays on screen."""
        self.job.forget()
        self.project_id, self.review_run_id, self.answers, self.asked = project_id, None, {}, None
        self.prompt_edit.clear()
        for box in self.answer_boxes:
            box.show_text("")
        self.status_label.setText("")
        self.run_combo.clear()
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """Reload the runs, keeping the chosen one."""
        keep = self.run_combo.currentData()
        fill_run_picker(self.run_combo, self.db, self.project_id, TRAIN_KINDS, keep=keep)
        if self.run_combo.currentData() != keep or not self.side_combo.count():
            self._on_run_chosen()
        self.ask_button.setEnabled(self.run_combo.count() > 0 and not self.job.running)
        if not self.run_combo.count() and self.project_id is not None:
            show_status(self.status_label, "Teach the model first (Training tab): then you "
                                           "can talk to it here.")

    def _on_run_chosen(self, *_args) -> None:
        run_id = self.run_combo.currentData()
        try:
            sides = chat_sides(self.db, run_id) if run_id is not None else {}
        except ValueError as exc:
            sides = {}
            show_status(self.status_label, str(exc), error=True)
        for combo, default in ((self.side_combo, "tuned"), (self.other_combo, "base")):
            keep = combo.currentText() or default
            combo.clear()
            combo.addItems(list(sides))
            if combo.findText(keep) >= 0:
                combo.setCurrentIndex(combo.findText(keep))
        self.compare_check.setEnabled(len(sides) > 1)
        folder = next((side.folder for side in sides.values() if side.compress_run is None), None)
        self.template_view.setPlainText(chat_template_text(folder) if folder else "")

    @Slot(bool)
    def _on_compare_toggled(self, on: bool) -> None:
        self.other_combo.setEnabled(on)
        self.answer_boxes[1].setVisible(on)

    # ----- asking -----------------------------------------------------------------------

    def chosen_sides(self) -> list[str]:
        """The model(s) that will answer."""
        sides = [self.side_combo.currentText()]
        other = self.other_combo.currentText()
        if self.compare_check.isChecked() and other and other not in sides:
            sides.append(other)
        return [side for side in sides if side]

    def ask(self) -> int | None:
        """Start the chat job for the prompt typed; returns its id (None when it cannot)."""
        run_id = self.run_combo.currentData()
        if run_id is None or self.project_id is None:
            return None
        shown = display_redactor(self.db, self.project_id)  # raw identifiers never stored
        try:
            recipe = ChatRecipe(run_id=run_id, prompt=shown(self.prompt_edit.toPlainText()),
                                sides=self.chosen_sides(), system=shown(self.system_edit.text()),
                                temperature=self.temperature_spin.value(),
                                max_new_tokens=self.tokens_spin.value())
        except ValueError as exc:
            show_status(self.status_label, str(exc), error=True)
            return None
        self.answers, self.asked = {}, None
        for box, side in zip(self.answer_boxes, recipe.sides + [""]):
            box.setTitle(side or "Second answer")
            box.show_text("")
        params = {k: getattr(recipe, k) for k in recipe.__dataclass_fields__}
        return self.job.start("chat", params, self.project_id, "Answer",
                              "Loading the model…")

    @Slot(dict)
    def _on_progress(self, event: dict) -> None:
        side = event.get("stage") or ""
        box = self._box_of(side)
        if box is not None:
            self.answers[side] = event.get("message") or ""
            box.show_text(self.answers[side])

    @Slot(dict)
    def _on_succeeded(self, result: dict) -> None:
        self.answers = dict(result.get("answers") or {})
        for side, text in self.answers.items():
            box = self._box_of(side)
            if box is not None:
                box.show_text(text)
        self.asked = {"run_id": result.get("run_id"), "prompt": result.get("prompt", "")}
        if self.asked["prompt"] != self.prompt_edit.toPlainText().strip():
            self.prompt_edit.setPlainText(self.asked["prompt"])  # as the model saw it: redacted
        show_status(self.status_label, "Done. Send the answers to Review to rate or correct "
                                       "them.")
        self.review_button.setEnabled(True)

    def _box_of(self, side: str) -> AnswerBox | None:
        return next((box for box in self.answer_boxes if box.title() == side), None)

    # ----- review -----------------------------------------------------------------------

    def send_to_review(self) -> int | None:
        """Keep the last prompt and answers as a review item; returns the evaluation run."""
        if self.asked is None or self.project_id is None:
            return None
        try:
            self.review_run_id = send_to_review(self.db, self.project_id, self.asked["run_id"],
                                                self.asked["prompt"], self.answers,
                                                self.review_run_id)
        except ValueError as exc:
            show_status(self.status_label, str(exc), error=True)
            return None
        self.review_button.setEnabled(False)
        show_status(self.status_label, "Sent to Review: rate or correct it in the Review tab.")
        return self.review_run_id


def _progress_text(event: dict) -> str:
    side, step = event.get("stage") or "", event.get("step") or 0
    return f"{side}: writing… ({step} tokens)" if step else f"{side}: loading the model…"
