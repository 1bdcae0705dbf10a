"""The cleaning recipe: which steps run and how they are tuned.

Every field carries ``help`` (and for choices, ``choices``) in its metadata;
the Data panel builds its form from them and the command line reads the same
recipe from TOML. Unknown keys are refused with the closest known name.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import Recipe, option

REDACTION_MODES = ("off", "placeholder", "pseudonym", "flag")
EMPTY_POLICIES = ("drop", "fill")


def _f(default, help_text: str, *, minimum=None, maximum=None, choices=None):
    return option(default, help_text, choices=choices, min=minimum, max=maximum)


@dataclass
class CleanRecipe(Recipe):
    """Steps of a cleaning run, in the order they apply to each training record.

    normalise → empty fields → language → length → redaction → exact duplicates →
    train/test contamination → near duplicates; then label checks over what is kept.
    The held-out test split gets normalisation and redaction only.

    Raises:
        RecipeError: On construction when a value is out of range, naming the field.
    """

    SECTION = "clean"

    fix_mojibake: bool = _f(True, "Repair mis-decoded text (mojibake such as 'cafÃ©') with ftfy.")
    normalise_unicode: bool = _f(True, "Unicode NFC, control characters removed, runs of spaces "
                                       "collapsed (line breaks kept, at most one blank line).")
    empty_fields: str = _f("drop", "A text field empty after normalisation: drop the record, "
                                   "or fill it with the fill text.", choices=EMPTY_POLICIES)
    fill_text: str = _f("(none)", "Text put into empty fields when empty fields = fill.")
    language_filter: bool = _f(False, "Keep only records in the listed languages (offline detector).")
    languages: str = _f("en", "Languages to keep, ISO 639-1 codes separated by commas.")
    length_filter: bool = _f(True, "Drop records shorter or longer than the limits.")
    tokenizer: str = _f("smollm2", "Count length in tokens of: 'smollm2' (bundled base model), a "
                                   "local model folder, or 'words' (whitespace words).")
    min_length: int = _f(1, "Minimum length (tokens, or words).", minimum=0)
    max_length: int = _f(2048, "Maximum length (tokens, or words).", minimum=1)
    redaction: str = _f("placeholder", "PHI/PII: replace by typed placeholders ([NAME]), by "
                                       "consistent pseudonyms, flag only, or off.",
                        choices=REDACTION_MODES)
    exact_dedup: bool = _f(True, "Drop exact duplicates (same normalised text); the first is kept.")
    near_dedup: bool = _f(True, "Drop near duplicates (MinHash-LSH over word 3-grams); the first "
                                "of each cluster is kept.")
    near_threshold: float = _f(0.8, "Estimated Jaccard similarity at or above which two records are "
                                    "near duplicates (0.5–1.0).", minimum=0.5, maximum=1.0)
    num_perm: int = _f(64, "MinHash permutations (more: finer similarity, slower).", minimum=16)
    contamination: bool = _f(True, "Drop training records that duplicate (exactly or nearly) a "
                                   "record of the held-out test split.")
    label_checks: bool = _f(True, "Classification: report unknown and rare labels and imbalance.")
    allowed_labels: str = _f("", "Classification: the known labels, separated by commas (empty: "
                                 "any label is known).")
    min_label_count: int = _f(5, "Classification: labels with fewer records are reported as rare.",
                              minimum=1)
    mislabel_check: bool = _f(True, "Classification: find likely mislabelled records (cleanlab over "
                                    "cross-validated probabilities of a probe on MiniLM "
                                    "embeddings); shown for review, not removed.")
    mislabel_max_records: int = _f(3000, "Classification: at most this many records are embedded for "
                                         "the mislabel check.", minimum=20)
    seed: int = _f(0, "Seed for every random choice.")

    def check(self) -> None:
        if self.min_length > self.max_length:
            raise ValueError(f"min_length ({self.min_length}) is above max_length "
                             f"({self.max_length})")
