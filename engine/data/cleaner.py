"""The cleaning steps applied to batches of records, with counts and examples per step.

:class:`Cleaner` holds the state a run needs across batches (hashes seen, the
near-duplicate index, the test split's fingerprints) and a :class:`StepLog`
that becomes the quality report. Example texts in the log are always shown
with identifiers replaced by their type.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from engine.data.clean_recipe import CleanRecipe
from engine.data.dedup import NearDuplicateIndex
from engine.data.language import detect_language
from engine.data.lengths import length_counter
from engine.data.phi.policy import DEFAULT_POLICY
from engine.data.phi.redact import redact
from engine.data.prepare import Prepared, Preparer
from engine.data.records import content_hash
from engine.data.text_fix import record_text

STEP_NAMES = ("normalise", "empty", "language", "too_short", "too_long", "redaction",
              "exact_duplicate", "contamination_exact", "contamination_near", "near_duplicate")
EXAMPLES = 5
CLUSTERS = 50


def safe_text(text: str, limit: int = 240) -> str:
    """A text for reports: identifiers shown as their type, cut to ``limit`` characters."""
    shown = redact(text, "placeholder").text
    return shown if len(shown) <= limit else shown[:limit - 1] + "…"


@dataclass
class StepLog:
    """Counts and a few examples per step, and near-duplicate clusters."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[dict]] = field(default_factory=dict)
    clusters: dict[int, list[dict]] = field(default_factory=dict)  # kept position → removed
    phi_counts: Counter = field(default_factory=Counter)

    def note(self, step: str, record: dict, reason: str) -> None:
        self.counts[step] += 1
        shown = self.examples.setdefault(step, [])
        if len(shown) < EXAMPLES:
            shown.append({"line": record.get("_line"), "reason": reason,
                          "text": safe_text(record_text(record))})


class Cleaner:
    """Applies a recipe to records of one task, batch by batch.

    Args:
        recipe: The cleaning recipe.
        task: The task of the records.
        key: The project's pseudonym key (needed when redaction = "pseudonym").
        policy: The project's redaction policy (which identifier types are replaced).
    """

    def __init__(self, recipe: CleanRecipe, task: str, key: bytes | None = None,
                 policy: str = DEFAULT_POLICY) -> None:
        self.recipe, self.task, self.key = recipe, task, key
        self.preparer = Preparer(recipe, task, key, policy)
        self.log = StepLog()
        self.count_lengths, self.length_unit = (length_counter(recipe.tokenizer)
                                                if recipe.length_filter else length_counter("words"))
        self.lengths_before: list[int] = []
        self.lengths_after: list[int] = []
        self._seen: dict[str, int | None] = {}
        self.kept_count = 0
        self._test_hashes: set[str] = set()
        self._near = NearDuplicateIndex(recipe.near_threshold, recipe.num_perm, recipe.seed)
        self._test_near = NearDuplicateIndex(recipe.near_threshold, recipe.num_perm, recipe.seed)
        self._languages = {c.strip() for c in recipe.languages.split(",") if c.strip()}

    def transform(self, record: dict) -> dict | None:
        """Normalise, handle empty fields and redact one record, without logging (test split)."""
        return self.preparer.prepare(record).record

    def add_test(self, record: dict) -> None:
        """Remember a held-out test record for the contamination check."""
        self._test_hashes.add(content_hash(record, self.task))
        self._test_near.add(record.get("_line"), self._test_near.signature(record_text(record)))

    def filter_batch(self, records: list[dict], prepared: list[Prepared] | None = None) -> list[dict]:
        """Run every step on a batch of training records; returns the records kept.

        Args:
            records: The batch.
            prepared: The batch already through :class:`Preparer` (e.g. by worker processes).
        """
        prepared = prepared if prepared is not None else [self.preparer.prepare(r) for r in records]
        ready = []
        for item in prepared:
            self._log_events(item)
            if item.record is not None and self._language_ok(item.record):
                ready.append(item)
        lengths = self.count_lengths([record_text(item.record) for item in ready])
        kept = []
        for item, length in zip(ready, lengths):
            self.lengths_before.append(length)
            if self._length_ok(item.record, length) and self._unique(item):
                kept.append(item.record)
                self.lengths_after.append(length)
                self.kept_count += 1
        return kept

    def _log_events(self, item: Prepared) -> None:
        shown = item.record if item.record is not None else item.dropped
        for step, reason in item.events:
            self.log.note(step, shown, reason)
        self.log.phi_counts.update(item.phi)

    def _language_ok(self, record: dict) -> bool:
        if not self.recipe.language_filter:
            return True
        code, probability = detect_language(record_text(record))
        if code in self._languages:
            return True
        self.log.note("language", record, f"detected {code} ({probability:.2f})")
        return False

    def _length_ok(self, record: dict, length: int) -> bool:
        r = self.recipe
        if not r.length_filter:
            return True
        unit = self.length_unit
        if length < r.min_length:
            self.log.note("too_short", record, f"{length} {unit}, below {r.min_length}")
            return False
        if length > r.max_length:
            self.log.note("too_long", record, f"{length:,} {unit}, above {r.max_length:,}")
            return False
        return True

    def _unique(self, item: Prepared) -> bool:
        r, record, digest = self.recipe, item.record, item.digest
        if r.exact_dedup and digest in self._seen:
            self.log.note("exact_duplicate", record, f"same text as line {self._seen[digest]}")
            return False
        if r.contamination and digest in self._test_hashes:
            self.log.note("contamination_exact", record, "same text as a test record")
            return False
        signature = item.signature
        if r.contamination and self._test_near.keys:
            hit = self._test_near.query(signature)
            if hit:
                self.log.note("contamination_near", record,
                              f"near duplicate ({hit[1]:.2f}) of test line {hit[0]}")
                return False
        if r.near_dedup:
            hit = self._near.query(signature)
            if hit:
                self._cluster(hit, record)
                return False
            self._near.add((self.kept_count, record.get("_line")), signature)
        self._seen[digest] = record.get("_line")
        return True

    def _cluster(self, hit: tuple, record: dict) -> None:
        (kept_position, kept_line), similarity = hit
        self.log.note("near_duplicate", record, f"similar ({similarity:.2f}) to line {kept_line}")
        members = self.log.clusters.get(kept_position)
        if members is None and len(self.log.clusters) < CLUSTERS:
            members = self.log.clusters[kept_position] = []
        if members is not None and len(members) < EXAMPLES:
            members.append({"line": record.get("_line"), "similarity": round(similarity, 3),
                            "text": safe_text(record_text(record))})


def clean_records(records: list[dict], task: str, recipe: CleanRecipe | None = None,
                  policy: str = DEFAULT_POLICY) -> list[dict]:
    """The records a cleaning recipe keeps, cleaned, in memory (benchmarks and checks that do
    not store a version). Without a recipe: text repair, 1 to 1,000 words and exact duplicates
    only, so that a benchmark's records stay as generated."""
    recipe = recipe or CleanRecipe(tokenizer="words", max_length=1000, redaction="off",
                                   near_dedup=False, label_checks=False, mislabel_check=False)
    return Cleaner(recipe, task, policy=policy).filter_batch(records)
