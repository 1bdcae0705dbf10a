"""The cleaning recipe: which steps run and how they are tuned.

Every field carries ``help`` (and for choices, ``choices``) in its metadata;
the Data panel builds its form from them and the command line reads the same
recipe from TOML. Unknown keys in a file are dropped with a warning.
"""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

REDACTION_MODES = ("off", "placeholder", "pseudonym", "flag")
EMPTY_POLICIES = ("drop", "fill")


def _f(default, help_text: str, **extra):
    return field(default=default, metadata={"help": help_text, **extra})


@dataclass
class CleanRecipe:
    """Steps of a cleaning run, in the order they apply to each training record.

    normalise → empty fields → language → length → redaction → exact duplicates →
    train/test contamination → near duplicates; then label checks over what is kept.
    The held-out test split gets normalisation and redaction only.

    Raises:
        ValueError: In ``__post_init__`` when a value is out of range.
    """

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

    def __post_init__(self) -> None:
        for f in fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if "choices" in meta and value not in meta["choices"]:
                raise ValueError(f"{f.name} must be one of {', '.join(meta['choices'])}, got {value!r}")
            if "minimum" in meta and value < meta["minimum"]:
                raise ValueError(f"{f.name} must be at least {meta['minimum']}, got {value}")
            if "maximum" in meta and value > meta["maximum"]:
                raise ValueError(f"{f.name} must be at most {meta['maximum']}, got {value}")
        if self.min_length > self.max_length:
            raise ValueError(f"min_length ({self.min_length}) is above max_length ({self.max_length})")

    def to_dict(self) -> dict:
        """The recipe as plain values (stored with every clean run)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "CleanRecipe":
        """A recipe from a dict; unknown keys are dropped with a warning, types are checked."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            warnings.warn(f"cleaning recipe: unknown keys ignored: {', '.join(unknown)}", stacklevel=2)
        kwargs = {}
        for name, value in values.items():
            if name in known:
                expected = type(known[name].default)
                if expected is float and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                    raise ValueError(f"cleaning recipe: {name} must be {expected.__name__}, "
                                     f"got {value!r}")
                kwargs[name] = value
        return cls(**kwargs)

    @classmethod
    def from_toml(cls, path: Path) -> "CleanRecipe":
        """Read a recipe file (keys at top level or under ``[clean]``).

        Raises:
            ValueError: Naming the file when it is not valid TOML or a value is wrong.
        """
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{Path(path).name}: not a valid TOML recipe ({exc})") from None
        try:
            return cls.from_dict(data.get("clean", data))
        except ValueError as exc:
            raise ValueError(f"{Path(path).name}: {exc}") from None
