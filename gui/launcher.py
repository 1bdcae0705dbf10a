"""The `enclave` console script: `enclave gui` opens the window, every other
command goes to the engine's command line (which never imports the front end)."""

from __future__ import annotations

import sys

from engine.cli import main as engine_main


def main(argv: list[str] | None = None) -> int:
    """Run `enclave ARGS`; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["gui"]:
        from gui.app import main as gui_main

        return gui_main(sys.argv[:1])
    return engine_main(argv)


if __name__ == "__main__":
    sys.exit(main())
