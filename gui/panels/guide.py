"""The guided path: Bring data → Check & clean → Choose examples → Teach the model → Check
the model → Export, one step at a time, in plain words.

Each step says what it will do, offers a recommended preset (Quick / Balanced / Thorough,
sized from the data and the device), says roughly how long it takes on this computer, and
runs through the same stage panel the expert uses: "Details" shows that panel's full form.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engine.store import reads
from gui import guide_presets as presets
from gui.jobs import controller_for, end_message
from gui.widgets.status import show_status


@dataclass(frozen=True)
class Step:
    """One step of the path: its key, title, plain words, button and the expert tab."""

    key: str
    title: str
    words: str
    button: str
    tab: str
    estimate: str  # the work unit of guide_presets.estimate_seconds


STEPS = (
    Step("data", "Bring data", "Choose the file with your examples (a spreadsheet saved as "
         "CSV, JSON lines, text files…). Enclave reads it, shows what it found, and keeps a "
         "copy inside this project. Nothing leaves this computer.", "Choose a file…", "Data",
         "import"),
    Step("clean", "Check & clean", "Enclave removes copies and empty records, sets aside what "
         "it cannot read, and hides personal details (names, dates, phone and record numbers) "
         "behind placeholders such as [NAME].", "Check and clean my data", "Data", "clean"),
    Step("select", "Choose examples", "Enclave picks a smaller set of examples that covers "
         "the same ground as all your records, so teaching is faster without losing variety.",
         "Choose examples", "Selection", "select"),
    Step("train", "Teach the model", "The bundled language model reads the chosen examples "
         "and learns your way of answering. It learns a small add-on (LoRA), so your computer "
         "can do it; you can stop at any time and continue later.", "Start teaching",
         "Training", "train"),
    Step("evaluate", "Check the model", "Enclave asks the model questions it never saw, "
         "beside the original model, and scores both answers against the expected ones.",
         "Check the model", "Evaluate", "evaluate"),
    Step("export", "Export", "Enclave writes the taught model into a folder inside the "
         "project, with checksums, ready for other tools on this computer.",
         "Export the model", "Compress", "export"),
)


class GuidePanel(QWidget):
    """The guided path of one project.

    Signals:
        details_requested(tab): show the expert tab of the current step.
        job_started(job_id): a step's job was submitted.
    """

    details_requested = Signal(str)
    job_started = Signal(int)

    def __init__(self, db: sqlite_utils.Database, bridge, stages: dict[str, QWidget],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.stages = db, stages
        self.jobs = controller_for(bridge)
        self.project_id: int | None = None
        self.device_kind = "cpu"
        self.rates: dict[str, float] = {}
        self.done: dict[str, bool] = {}
        self.job_id: int | None = None
        self._build()
        if self.jobs is not None:
            self.jobs.job_progressed.connect(self._on_job_progressed)
            self.jobs.job_finished.connect(self._on_job_finished)
        self.device_kind = presets.device_kind()

    # ----- building -----------------------------------------------------------------

    def _build(self) -> None:
        self.step_list = QListWidget()
        self.step_list.setObjectName("guideSteps")
        self.step_list.setAccessibleName("Steps of the guided path")
        self.step_list.setMaximumWidth(220)
        for number, step in enumerate(STEPS, 1):
            item = QListWidgetItem(f"{number}. {step.title}")
            item.setData(Qt.UserRole, step.key)
            self.step_list.addItem(item)
        self.step_list.currentRowChanged.connect(self._on_step_chosen)
        self.title_label = QLabel()
        self.title_label.setObjectName("projectTitle")
        self.words_label = QLabel()
        self.words_label.setWordWrap(True)
        self.preset_buttons = QButtonGroup(self)
        presets_row = QHBoxLayout()
        presets_row.addWidget(QLabel("How thorough:"))
        for name in presets.PRESETS:
            radio = QRadioButton(name + (" (recommended)" if name == presets.DEFAULT_PRESET
                                         else ""))
            radio.setObjectName(f"preset{name}")
            radio.setAccessibleName(f"{name} preset")
            radio.setToolTip(presets.PRESET_WORDS[name])
            radio.setChecked(name == presets.DEFAULT_PRESET)
            self.preset_buttons.addButton(radio)
            radio.toggled.connect(lambda _on: self._update_page())
            presets_row.addWidget(radio)
        presets_row.addStretch(1)
        self.preset_label = QLabel()
        self.preset_label.setObjectName("subtitle")
        self.preset_label.setWordWrap(True)
        self.estimate_label = QLabel()
        self.estimate_label.setObjectName("estimate")
        self.estimate_label.setWordWrap(True)
        self.action_button = QPushButton()
        self.action_button.setObjectName("primary")
        self.action_button.clicked.connect(self.run_step)
        self.details_button = QPushButton("Details…")
        self.details_button.setToolTip("Show every setting of this step (for experts).")
        self.details_button.clicked.connect(
            lambda: self.details_requested.emit(self.current_step().tab))
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setObjectName("subtitle")
        buttons = QHBoxLayout()
        buttons.addWidget(self.action_button)
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        page = QVBoxLayout()
        page.addWidget(self.title_label)
        page.addWidget(self.words_label)
        page.addSpacing(8)
        page.addLayout(presets_row)
        page.addWidget(self.preset_label)
        page.addWidget(self.estimate_label)
        page.addSpacing(8)
        page.addLayout(buttons)
        page.addWidget(self.status_label)
        page.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.step_list)
        layout.addLayout(page, 1)
        self.step_list.setCurrentRow(0)

    # ----- state --------------------------------------------------------------------

    def set_project(self, project_id: int | None) -> None:
        """Show a project's path, opened on its first step not yet done."""
        self.project_id = project_id
        self.job_id = None
        show_status(self.status_label, "")
        self.refresh()
        first = next((i for i, s in enumerate(STEPS) if not self.done.get(s.key)), 0)
        self.step_list.setCurrentRow(first)
        self._update_page()

    open_project = set_project

    def refresh(self) -> None:
        """Re-read which steps are done and the rates measured on this machine."""
        if self.project_id is None:
            self.done = {}
            return
        self.done = reads.path_progress(self.db, self.project_id)
        self.rates = reads.measured_rates(self.db)
        for row, step in enumerate(STEPS):
            mark = "✓ " if self.done.get(step.key) else ""
            self.step_list.item(row).setText(f"{row + 1}. {mark}{step.title}")
        self._update_page()

    def current_step(self) -> Step:
        """The step on screen."""
        return STEPS[max(0, self.step_list.currentRow())]

    def preset(self) -> str:
        """The chosen preset's name."""
        checked = self.preset_buttons.checkedButton()
        return checked.objectName().removeprefix("preset") if checked else \
            presets.DEFAULT_PRESET

    def choose_preset(self, name: str) -> None:
        """Tick a preset (Quick, Balanced or Thorough)."""
        self.findChild(QRadioButton, f"preset{name}").setChecked(True)

    def records(self) -> int:
        """Records of the project's newest data version (0 before any import)."""
        return reads.data_size(self.db, self.project_id)["newest"] if self.project_id else 0

    def plan(self) -> presets.Plan:
        """The chosen preset applied to this project's data and this device."""
        return presets.plan(self.preset(), self.records(), self.device_kind)

    # ----- the page -----------------------------------------------------------------

    @Slot(int)
    def _on_step_chosen(self, _row: int) -> None:
        self._update_page()

    def _update_page(self) -> None:
        step = self.current_step()
        number = STEPS.index(step) + 1
        done = " (done)" if self.done.get(step.key) else ""
        self.title_label.setText(f"Step {number} of {len(STEPS)}: {step.title}{done}")
        self.words_label.setText(step.words)
        self.action_button.setText(step.button if not done else f"{step.button} again")
        self.action_button.setEnabled(self.project_id is not None and self.job_id is None
                                      and self._ready(step))
        self.preset_label.setText(self._preset_words(step))
        self.estimate_label.setText(self.estimate_text(step))

    def _ready(self, step: Step) -> bool:
        needs = {"clean": "data", "select": "data", "train": "data", "evaluate": "train",
                 "export": "train"}.get(step.key)
        return needs is None or bool(self.done.get(needs))

    def _preset_words(self, step: Step) -> str:
        plan, name = self.plan(), self.preset()
        words = presets.PRESET_WORDS[name]
        if step.key == "clean":
            return words + (" Removes near copies too." if plan.clean["near_dedup"]
                            else " Removes exact copies only.")
        if step.key == "select" and plan.chosen:
            return words + f" Keeps {plan.chosen:,} of {self.records():,} examples."
        if step.key == "train" and plan.steps:
            return words + (f" {plan.train['epochs']} pass(es), {plan.steps:,} learning steps "
                            f"of {plan.train['batch_size']} examples.")
        if step.key == "evaluate":
            return words + f" Asks {plan.evaluate_items} test questions."
        return words

    def estimate_text(self, step: Step) -> str:
        """Roughly how long ``step`` takes here, and where the figure comes from."""
        records = self.records()
        if step.key == "data" and not records:
            return ("Takes: under a minute for 10,000 records (reading about 2,000 records "
                    "a second).")
        units = presets.work(step.estimate, records, self.plan())
        seconds, measured = presets.estimate_seconds(step.estimate, units, self.device_kind,
                                                     self.rates)
        source = "measured on this computer" if measured else \
            f"a rough figure for a {'GPU' if self.device_kind != 'cpu' else 'computer without a GPU'}"
        return f"Takes: {presets.duration_words(seconds)} ({source})."

    # ----- running a step -----------------------------------------------------------

    @Slot()
    def run_step(self) -> int | None:
        """Run the step on screen with the chosen preset; returns the job id (None when
        the step needs something first, with the reason on the status line)."""
        step = self.current_step()
        if step.key == "data":
            path, _ = QFileDialog.getOpenFileName(self, "Bring data")
            return self.import_file(path) if path else None
        return self._follow(getattr(self, f"_run_{step.key}")(self.plan()))

    def import_file(self, path: str) -> int | None:
        """Import a file with the mapping Enclave detects; returns the job id."""
        data = self.stages["Data"]
        data.path_edit.setText(path)
        return self._follow(data.run_import(), data)

    def _run_clean(self, plan: presets.Plan) -> int | None:
        data = self.stages["Data"]
        data.recipe_form.set_values(plan.clean)
        return data.run_clean()

    def _run_select(self, plan: presets.Plan) -> int | None:
        panel = self.stages["Selection"]
        panel.refresh()
        panel.method_combo.setCurrentText(plan.select["method"])
        panel.budget_edit.setText(plan.select["budget"])
        return panel.run_selection()

    def _run_train(self, plan: presets.Plan) -> int | None:
        panel = self.stages["Training"]
        panel.refresh()
        panel.inputs["method"].setCurrentText(plan.train["method"])
        for name, value in plan.train.items():
            editor = panel.inputs.get(name)
            if editor is not None and hasattr(editor, "setText"):
                editor.setText(str(value))
        panel.start()
        return panel.job_id

    def _run_evaluate(self, plan: presets.Plan) -> int | None:
        panel = self.stages["Evaluate"]
        panel.refresh()
        panel.limit_spin.setValue(plan.evaluate_items)
        return panel.run_evaluation()

    def _run_export(self, _plan: presets.Plan) -> int | None:
        panel = self.stages["Compress"]
        panel.refresh()
        panel.export_format.setCurrentText("safetensors")
        return panel.run_export()

    def _follow(self, job_id: int | None, panel: QWidget | None = None) -> int | None:
        if job_id is None:
            panel = panel or self.stages[self.current_step().tab]
            why = getattr(panel, "status_label", None)
            show_status(self.status_label, (why.text() if why is not None else "")
                        or "This step cannot start yet.", error=True)
            return None
        self.job_id = job_id
        show_status(self.status_label, f"{self.current_step().title}: started…")
        self._update_page()
        self.job_started.emit(job_id)
        return job_id

    @Slot(int, dict)
    def _on_job_progressed(self, job_id: int, event: dict) -> None:
        if job_id == self.job_id:
            total = event.get("total") or 0
            share = f" ({100 * (event.get('step') or 0) // total}%)" if total else ""
            show_status(self.status_label, f"{self.current_step().title}{share}: "
                        f"{event.get('message') or event.get('stage') or ''}")

    @Slot(int, dict)
    def _on_job_finished(self, job_id: int, row: dict) -> None:
        if job_id != self.job_id:
            return
        self.job_id = None
        step = self.current_step()
        message = end_message(step.title, row)
        self.refresh()
        if message:
            show_status(self.status_label, message, error=True)
            return
        show_status(self.status_label, f"{step.title}: done.")
        index = STEPS.index(step)
        if index + 1 < len(STEPS):
            self.step_list.setCurrentRow(index + 1)
