"""The DPO page of the Training panel: what to start from, which pairs, how many, the recipe.

Preference pairs come from the project's reviews (A/B choices, and corrected answers when
``include corrections`` is on) or from a stored pairs dataset. The page says how many pairs
there are, and how to get more when there are too few to start.
"""

from __future__ import annotations

import sqlite_utils
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from engine.store import reads, runs
from engine.train import preferences
from engine.train.dpo_recipe import DpoRecipe
from gui.widgets.recipe_form import RecipeForm, hinted, row_label

REVIEWS = "reviews"
SHORT_HOW_TO = ("Rate answers in the Review tab: choose A or B is better, or write a corrected "
                "answer.")


class DpoOptions(QWidget):
    """Inputs of a DPO run; ``inputs`` holds the recipe fields by name."""

    def __init__(self, db: sqlite_utils.Database, parent=None) -> None:
        super().__init__(parent)
        self.db = db
        self.project_id: int | None = None
        self.start_combo = QComboBox()
        self.start_combo.setToolTip("A finished training run's tuned model (its adapter is "
                                    "trained further and serves as the reference), or the "
                                    "base model with a new adapter.")
        self.pairs_combo = QComboBox()
        self.pairs_combo.currentIndexChanged.connect(self.refresh_count)
        self.pairs_label = QLabel()
        self.pairs_label.setWordWrap(True)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(row_label("start from"), hinted(self.start_combo, "The model before preference "
                                         "tuning; DPO keeps the tuned model close to it."))
        form.addRow(row_label("pairs"), self.pairs_combo)
        form.addRow(row_label(""), self.pairs_label)
        self.recipe_form = RecipeForm(DpoRecipe)
        form.addRow(self.recipe_form)
        self.inputs = self.recipe_form.inputs
        self.inputs["include_corrections"].toggled.connect(self.refresh_count)
        self.inputs["min_pairs"].textChanged.connect(self.refresh_count)

    def set_project(self, project_id: int | None) -> None:
        """Show another project's runs and pairs (nothing of the previous one stays)."""
        self.project_id = project_id
        self.start_combo.clear()
        self.pairs_combo.clear()
        self.refresh()

    open_project = set_project

    def refresh(self) -> None:
        """List the finished training runs and stored pairs, keeping the choices; count."""
        keep_start, keep_pairs = self.start_combo.currentData(), self.pairs_combo.currentData()
        self.start_combo.clear()
        self.start_combo.addItem("base model, new adapter", None)
        self.pairs_combo.blockSignals(True)
        self.pairs_combo.clear()
        self.pairs_combo.addItem("expert reviews of this project", REVIEWS)
        if self.project_id is not None:
            for row in runs.usable_runs(self.db, self.project_id):
                self.start_combo.addItem(row["label"], row["id"])
            for row in preferences.pair_datasets(self.db, self.project_id):
                self.pairs_combo.addItem(f"{row['name']} v{row['version']} "
                                         f"({row['record_count']} pairs)", row["id"])
        for combo, keep in ((self.start_combo, keep_start), (self.pairs_combo, keep_pairs)):
            if keep is not None and combo.findData(keep) >= 0:
                combo.setCurrentIndex(combo.findData(keep))
        self.pairs_combo.blockSignals(False)
        self.refresh_count()

    def _min_pairs(self) -> int:
        try:
            return max(1, int(self.inputs["min_pairs"].text()))
        except ValueError:
            return DpoRecipe.min_pairs

    @Slot()
    def refresh_count(self, *_args) -> int:
        """Count the chosen pairs, show the count (and what to do when too few); return it."""
        if self.project_id is None:
            self.pairs_label.setText("")
            return 0
        source = self.pairs_combo.currentData()
        if source == REVIEWS:
            counts = preferences.count_stored_pairs(self.db, self.project_id)
            with_corrections = self.inputs["include_corrections"].isChecked()
            count = counts["total"] if with_corrections else counts["preferences"]
            text = (f"{count} preference pairs from reviews: {counts['preferences']} A/B "
                    f"choices" + (f", {counts['corrections']} corrected answers."
                                  if with_corrections else " (corrections left out)."))
        else:
            count = reads.record_count(self.db, source)
            text = f"{count} preference pairs in the stored dataset."
        minimum = self._min_pairs()
        if count < minimum:
            text += f" DPO needs at least {minimum} (min pairs). {SHORT_HOW_TO}"
        self.pairs_label.setStyleSheet("color:#b45309;" if count < minimum else "color:#15803d;")
        self.pairs_label.setText(text)
        return count

    def recipe(self) -> DpoRecipe:
        """The DPO recipe in the form. Raises ValueError naming the bad field."""
        return DpoRecipe.from_dict(self.recipe_form.values(), where="DPO recipe")

    def from_run(self) -> int | None:
        """The training run chosen to start from, or None for the base model."""
        return self.start_combo.currentData()

    def params(self, base: str, recipe: DpoRecipe) -> dict:
        """The ``train.dpo`` job parameters."""
        source = self.pairs_combo.currentData()
        from_run = self.from_run()
        return {"recipe": recipe.to_dict(), "base": None if from_run else base,
                "from_run": from_run, "pairs_dataset": None if source == REVIEWS else source}
