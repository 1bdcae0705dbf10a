"""The per-record half of cleaning, which needs no other record: repair, empty fields,
redaction, the content hash and the MinHash signature.

It runs in worker processes when there are many records (one per CPU core), so
that the order-dependent half (duplicates, counts) in the main process is never
starved. Workers send back the prepared record and what happened to it; the
main process keeps the log.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

from engine.data.clean_recipe import CleanRecipe
from engine.data.dedup import MinHasher
from engine.data.phi.policy import DEFAULT_POLICY
from engine.data.phi.redact import redact
from engine.data.records import content_hash
from engine.data.text_fix import empty_fields, fix_text, map_texts, record_text

PARALLEL_FROM = 4000  # records; below this a pool costs more than it saves


@dataclass
class Prepared:
    """One record after the per-record steps.

    Attributes:
        record: The record to go on with, or None when a step dropped it.
        events: ``(step, reason)`` for each step that changed or dropped it.
        dropped: The record as it was when dropped (for the report), else None.
        phi: Identifier types found, with counts.
        digest: Content hash of ``record``.
        signature: MinHash signature of ``record``'s text.
    """

    record: dict | None
    events: list[tuple[str, str]] = field(default_factory=list)
    dropped: dict | None = None
    phi: Counter = field(default_factory=Counter)
    digest: str = ""
    signature: np.ndarray | None = None


class Preparer:
    """Applies the per-record steps of a recipe.

    Args:
        recipe: The cleaning recipe.
        task: The records' task.
        key: The project's pseudonym key, for redaction = "pseudonym".
        policy: The project's redaction policy: which identifier types are replaced
            ("off": none, whatever the recipe's redaction mode).
    """

    def __init__(self, recipe: CleanRecipe, task: str, key: bytes | None = None,
                 policy: str = DEFAULT_POLICY) -> None:
        self.recipe, self.task, self.key, self.policy = recipe, task, key, policy
        self.hasher = MinHasher(recipe.num_perm, recipe.seed)

    def prepare(self, record: dict) -> Prepared:
        """Run the per-record steps on one record."""
        r = self.recipe
        fixed = map_texts(record, lambda t: fix_text(t, r.fix_mojibake, r.normalise_unicode))
        out = Prepared(fixed)
        if fixed != record:
            out.events.append(("normalise", "text repaired or normalised"))
        empties = empty_fields(fixed)
        if empties:
            if r.empty_fields == "drop":
                out.events.append(("empty", f"empty after cleaning: {', '.join(empties)}"))
                out.record, out.dropped = None, fixed
                return out
            fixed = map_texts(fixed, lambda t: t if t.strip() else r.fill_text)
        if r.redaction != "off" and self.policy != "off":
            fixed = self._redact(fixed, out)
        out.record = fixed
        out.digest = content_hash(fixed, self.task)
        if r.near_dedup or r.contamination:
            out.signature = self.hasher.signature(record_text(fixed))
        return out

    def _redact(self, record: dict, out: Prepared) -> dict:
        def one(text: str) -> str:
            result = redact(text, self.recipe.redaction, self.key, policy=self.policy)
            out.phi.update(span.kind for span in result.spans)
            return result.text

        changed = map_texts(record, one)
        if out.phi:
            out.events.append(("redaction", ", ".join(f"{k} ×{n}" for k, n in sorted(out.phi.items()))))
            if self.recipe.redaction == "flag":
                changed["phi"] = sorted(out.phi)
        return changed


_WORKER: Preparer | None = None


def _init_worker(recipe_values: dict, task: str, key: bytes | None, policy: str) -> None:
    global _WORKER
    _WORKER = Preparer(CleanRecipe.from_dict(recipe_values), task, key, policy)


def _prepare_chunk(records: list[dict]) -> tuple[list[Prepared], float]:
    started = time.process_time()
    prepared = [_WORKER.prepare(record) for record in records]
    return prepared, time.process_time() - started


class PreparePool:
    """Prepares batches of records on every CPU core, in order; in-process when small.

    Use as a context manager; ``workers=0`` or a small ``expected`` count runs in-process.
    """

    def __init__(self, preparer: Preparer, expected: int, workers: int | None = None) -> None:
        self.preparer = preparer
        cores = workers if workers is not None else (os.cpu_count() or 1)
        self.workers = cores if cores > 1 and expected >= PARALLEL_FROM else 0
        self._pool = None
        self.worker_cpu_seconds = 0.0

    def __enter__(self) -> "PreparePool":
        if self.workers:
            context = multiprocessing.get_context("forkserver")
            p = self.preparer
            self._pool = context.Pool(self.workers, _init_worker,
                                      (p.recipe.to_dict(), p.task, p.key, p.policy))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def stream(self, batches: Iterable[list[dict]]) -> Iterator[tuple[list[dict], list[Prepared]]]:
        """Yield ``(batch, prepared)`` in order; workers prepare the next batch meanwhile."""
        if self._pool is None:
            for batch in batches:
                yield batch, [self.preparer.prepare(record) for record in batch]
            return
        pending = None
        for batch in batches:
            size = max(1, len(batch) // (self.workers * 2))
            job = self._pool.map_async(_prepare_chunk, [batch[i:i + size]
                                                        for i in range(0, len(batch), size)])
            if pending is not None:
                yield pending[1], self._collect(pending[0])
            pending = (job, batch)
        if pending is not None:
            yield pending[1], self._collect(pending[0])

    def _collect(self, job) -> list[Prepared]:
        items = []
        for prepared, seconds in job.get():
            items.extend(prepared)
            self.worker_cpu_seconds += seconds
        return items
