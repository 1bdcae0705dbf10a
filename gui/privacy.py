"""Privacy in the window: the Audit tab, the purge control in the Data tab, the
memorization check in the Evaluate tab, and the automatic lock of an encrypted workspace.

Installed on a built :class:`~gui.main_window.MainWindow` by :func:`install`; the boxes
follow the panel they sit in (its project and its refreshes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QWidget

from engine.store import keys
from gui.idle_lock import IdleLock
from gui.panels.audit import AuditPanel
from gui.widgets.memorization_box import MemorizationBox
from gui.widgets.purge_box import PurgeBox


@dataclass
class PrivacyParts:
    """What :func:`install` added to the window."""

    audit: AuditPanel
    purge: PurgeBox | None
    memorization: MemorizationBox | None
    lock: IdleLock | None


def _attach(panel: QWidget | None, box) -> None:
    """Put ``box`` at the bottom of ``panel`` and keep it on the panel's project."""
    if panel is None:
        return
    panel.layout().addWidget(box)
    set_project, refresh = panel.set_project, getattr(panel, "refresh", None)

    def follow_project(project_id):
        set_project(project_id)
        box.set_project(project_id)

    def follow_refresh(*args, **kwargs):
        if refresh is not None:
            refresh(*args, **kwargs)
        box.set_project(box.project_id)

    panel.set_project, panel.refresh = follow_project, follow_refresh


def install(window, db_path: Path, lock_minutes: float | None = None) -> PrivacyParts:
    """Add the privacy parts to ``window``; the lock only when the workspace is encrypted."""
    panels = dict(window.stage_panels)
    parts = PrivacyParts(AuditPanel(window.db), None, None, None)
    window.tabs.addTab(parts.audit, "Audit")
    if "Data" in panels:
        parts.purge = PurgeBox(window.db)
        _attach(panels["Data"], parts.purge)
    if "Evaluate" in panels:
        parts.memorization = MemorizationBox(window.db, window.bridge)
        _attach(panels["Evaluate"], parts.memorization)
    if keys.is_encrypted(Path(db_path)):
        parts.lock = IdleLock(window, db_path, lock_minutes)
    window.privacy = parts
    return parts
