"""A project's redaction policy, and the dry run that shows what a clean would replace.

The policy is chosen when a project is created and may change until the project's
data is first cleaned: from then on the data, the reports and every surface show
text redacted under it, and a change would leave them disagreeing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlite_utils

from engine.data.phi.detectors import Span
from engine.data.phi.policy import DEFAULT_POLICY, PolicyError, check_policy, detect_for
from engine.data.phi.redact import typed_view
from engine.data.text_fix import map_texts
from engine.store import audit, dataset_stream
from engine.store.transactions import transaction

EXAMPLES = 3
CONTEXT = 60


def project_policy(db: sqlite_utils.Database, project_id: int | None) -> str:
    """The project's redaction policy ("clinical" when there is no project)."""
    if project_id is None:
        return DEFAULT_POLICY
    row = db.execute("SELECT redaction_policy FROM projects WHERE id = ?", [project_id]).fetchone()
    return row[0] if row and row[0] else DEFAULT_POLICY


def policy_locked(db: sqlite_utils.Database, project_id: int) -> bool:
    """Whether the project's data was cleaned, which fixes its redaction policy."""
    return bool(db.execute("SELECT COUNT(*) FROM runs WHERE project_id = ? AND "
                           "kind = 'data.clean'", [project_id]).fetchone()[0])


def set_project_policy(db: sqlite_utils.Database, project_id: int, policy: str) -> str:
    """Change a project's redaction policy before its data is cleaned.

    Raises:
        PolicyError: If the policy is unknown or the project's data was already cleaned.
    """
    check_policy(policy)
    current = project_policy(db, project_id)
    if policy == current:
        return policy
    if policy_locked(db, project_id):
        raise PolicyError(f"the project's data was already cleaned under the '{current}' policy; "
                          "the policy can change only before the first clean (make a new "
                          "project to clean under another one)")
    with transaction(db):
        db.execute("UPDATE projects SET redaction_policy = ? WHERE id = ?", [policy, project_id])
        audit.record(db, "project.redaction_policy", f"project:{project_id}", old=current,
                     policy=policy)
    return policy


@dataclass
class DryRun:
    """What a clean under a policy would replace, before it runs.

    Attributes:
        policy: The policy.
        records: Records scanned.
        counts: Spans that would be replaced, per type.
        examples: Per type, a few snippets around a span, every identifier in them
            shown as its type (nothing raw).
    """

    policy: str
    records: int = 0
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"policy": self.policy, "records": self.records,
                "counts": dict(self.counts.most_common()), "examples": self.examples}


def dry_run(db: sqlite_utils.Database, project_id: int, dataset_id: int,
            policy: str | None = None) -> DryRun:
    """Count, per type, the spans a clean would replace in a dataset version.

    Args:
        db: The workspace store.
        project_id: The project (its policy unless ``policy`` is given).
        dataset_id: The version a clean would read.
        policy: Another policy to try.
    """
    policy = check_policy(policy or project_policy(db, project_id))
    outcome = DryRun(policy)
    for _, record, _ in dataset_stream.iter_records(db, dataset_id):
        outcome.records += 1
        map_texts(record, lambda text: _scan(text, policy, outcome))
    return outcome


def _scan(text: str, policy: str, outcome: DryRun) -> str:
    spans = detect_for(text, policy)
    for span in spans:
        outcome.counts[span.kind] += 1
        shown = outcome.examples.setdefault(span.kind, [])
        if len(shown) < EXAMPLES:
            shown.append(_snippet(text, spans, span))
    return text


def _snippet(text: str, spans: list[Span], around: Span) -> str:
    """The text around a span, cut at whole identifiers, each shown as its type."""
    start, end = max(0, around.start - CONTEXT), min(len(text), around.end + CONTEXT)
    start = min([start] + [s.start for s in spans if s.start < start < s.end])
    end = max([end] + [s.end for s in spans if s.start < end < s.end])
    inside = [s for s in spans if s.start >= start and s.end <= end]
    window = text[start:end]
    shifted = [Span(s.start - start, s.end - start, s.kind, s.text) for s in inside]
    shown = " ".join(typed_view(window, shifted).split())
    return ("…" if start else "") + shown + ("…" if end < len(text) else "")

