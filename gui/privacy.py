"""Privacy parts that belong to the whole window: the Audit tab and the automatic lock
of an encrypted workspace.

The purge control and the memorization check belong to the tab they sit in: the Data
panel owns its :class:`~gui.widgets.purge_box.PurgeBox`, the Evaluate panel its
:class:`~gui.widgets.memorization_box.MemorizationBox`, each updated by its panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.store import keys
from gui.idle_lock import IdleLock
from gui.panels.audit import AuditPanel


@dataclass
class PrivacyParts:
    """What :func:`install` added to the window."""

    audit: AuditPanel
    lock: IdleLock | None


def install(window, db_path: Path, lock_minutes: float | None = None) -> PrivacyParts:
    """Add the Audit tab to ``window``, and the lock when the workspace is encrypted."""
    parts = PrivacyParts(AuditPanel(window.db), None)
    window.tabs.addTab(parts.audit, "Audit")
    if keys.is_encrypted(Path(db_path)):
        parts.lock = IdleLock(window, db_path, lock_minutes)
    window.privacy = parts
    return parts
