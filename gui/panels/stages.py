"""The stage panels shown as tabs beside a project's overview.

Each entry is (tab title, "module:Class"). A panel class takes ``(db, bridge)`` and has
``set_project(project_id)`` (clear everything of the previous project, then load; None
shows no project) and ``refresh()`` (reload from the store, keeping the user's choices; the
window calls it whenever a job ends). It is imported only when the window is built.
"""

from __future__ import annotations

import importlib

STAGE_PANELS: list[tuple[str, str]] = [
    ("Data", "gui.panels.data:DataPanel"),
    ("Browse", "gui.panels.browse:BrowsePanel"),
    ("Selection", "gui.panels.selection:SelectionPanel"),
    ("Training", "gui.panels.training:TrainingPanel"),
    ("Compare", "gui.panels.compare:ComparePanel"),
    ("Compress", "gui.panels.compress:CompressPanel"),
    ("Evaluate", "gui.panels.evaluate:EvaluatePanel"),
    ("Review", "gui.panels.review:ReviewPanel"),
    ("Chat", "gui.panels.chat:ChatPanel"),
]


def build_stage_panels(db, bridge) -> list[tuple[str, object]]:
    """Instantiate every registered stage panel, in order."""
    panels = []
    for title, target in STAGE_PANELS:
        module, _, name = target.partition(":")
        panels.append((title, getattr(importlib.import_module(module), name)(db, bridge)))
    return panels
