"""Render the window (or any widget) to a PNG, for the docs and the tests.

``python -m gui.screenshot OUT.png [--project NAME]`` opens the window offscreen
on the current workspace (``ENCLAVE_HOME``), selects the project and saves the PNG.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtWidgets import QWidget


def render(widget: QWidget, path: Path | str) -> Path:
    """Grab a widget (shown or not) into a PNG file and return its path.

    Raises:
        OSError: when the image cannot be written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path), "PNG"):
        raise OSError(f"could not write the screenshot {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: render the main window to a PNG."""
    parser = argparse.ArgumentParser(prog="python -m gui.screenshot")
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--project", help="name of the project to select")
    parser.add_argument("--size", default="1280x820", help="window size, WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gui.app import application, create_main_window

    app = application()
    window = create_main_window()
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    if args.project and not window.select_project_by_name(args.project):
        print(f"no project named '{args.project}' in this workspace", file=sys.stderr)
        window.bridge.shutdown()
        return 1
    window.show()
    for _ in range(5):
        app.processEvents()
    print(render(window, args.out))
    window.bridge.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
