"""The stage panels shown as tabs beside a project's overview.

Each entry is (tab title, "module:Class"). A panel class takes ``(db, bridge)``
and has ``open_project(project_id)``; it is imported only when the window is built.
"""

from __future__ import annotations

import importlib

STAGE_PANELS: list[tuple[str, str]] = [
    ("Data", "gui.panels.data:DataPanel"),
    ("Selection", "gui.panels.selection:SelectionPanel"),
    ("Training", "gui.panels.training:TrainingPanel"),
    ("Compress", "gui.panels.compress:CompressPanel"),
    ("Evaluate", "gui.panels.evaluate:EvaluatePanel"),
    ("Review", "gui.panels.review:ReviewPanel"),
]


def build_stage_panels(db, bridge) -> list[tuple[str, object]]:
    """Instantiate every registered stage panel, in order."""
    panels = []
    for title, target in STAGE_PANELS:
        module, _, name = target.partition(":")
        panels.append((title, getattr(importlib.import_module(module), name)(db, bridge)))
    return panels
