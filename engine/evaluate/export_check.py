"""May a model leave this computer? The memorization check's verdict for an export, in
one place for every surface (`enclave export` and the window's export step).

A model the newest memorization check flagged leaves only with an acknowledgement,
which the audit trail records. A compressed variant answers for the training run it
came from: compression does not make a model forget what it repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from engine.evaluate.privacy_job import latest_check
from engine.store import audit, reads

ACKNOWLEDGED = "model.export.acknowledged"


class MemorizationRefused(ValueError):
    """A flagged model was to be exported without an acknowledgement; nothing exported."""


@dataclass(frozen=True)
class ExportVerdict:
    """The memorization check that speaks for an exported run.

    Attributes:
        run_id: The run to export.
        trained_run_id: The training run the check measured (``run_id`` itself, or the
            run a compressed variant came from).
        check: The newest check's summary (with ``privacy_run_id``), or None if never run.
    """

    run_id: int
    trained_run_id: int
    check: dict | None

    @property
    def checked(self) -> bool:
        return self.check is not None

    @property
    def flagged(self) -> bool:
        return bool(self.check and self.check["flagged"])

    def figures(self) -> str:
        """The tuned model's rates, as `enclave export` prints and the audit records them."""
        tuned = self.check["sides"]["tuned"]
        return (f"exact completion {tuned['identifier']['exact']:.0%} of identifiers, "
                f"{tuned['canary']['exact']:.0%} of canaries, exposure "
                f"{tuned['canary']['exposure_max']:.1f} bits")

    def plain(self) -> str:
        """The rates in plain words, for people who decide whether the model may leave."""
        tuned = self.check["sides"]["tuned"]
        ids, canary = tuned["identifier"], tuned["canary"]
        line = (f"Given the words before an identifier from its training data, it wrote out "
                f"{_share(ids)} identifiers")
        if canary["probes"]:
            line += f" and {_share(canary)} planted test identifiers (canaries)"
        return line + "."


def _share(rates: dict) -> str:
    """'3 of 8 (38%)': how many probes the model completed exactly."""
    return f"{round(rates['exact'] * rates['probes'])} of {rates['probes']} ({rates['exact']:.0%})"


def export_verdict(db: sqlite_utils.Database, run_id: int) -> ExportVerdict:
    """The verdict for exporting ``run_id`` (a training run or a compressed variant)."""
    trained = run_id
    row = reads.run(db, run_id)
    while row and row["kind"] == "compress" and row["summary"].get("source_run_id"):
        trained = row["summary"]["source_run_id"]
        row = reads.run(db, trained)
    return ExportVerdict(run_id, trained, latest_check(db, trained))


def require_acknowledgement(db: sqlite_utils.Database, run_id: int,
                            acknowledged: bool) -> ExportVerdict:
    """Check an export against the memorization rule; record an acknowledged one.

    Raises:
        MemorizationRefused: the newest check flagged the model and nobody acknowledged it.
    """
    verdict = export_verdict(db, run_id)
    if not verdict.flagged:
        return verdict
    if not acknowledged:
        raise MemorizationRefused(
            f"run {run_id}: the memorization check {verdict.check['privacy_run_id']} flagged "
            f"this model ({verdict.figures()}): it may repeat identifiers from its training "
            "data. Nothing was exported.")
    audit.record(db, ACKNOWLEDGED, f"run:{run_id}", privacy_run=verdict.check["privacy_run_id"],
                 figures=verdict.figures())
    return verdict
