"""The one error type commands raise; the CLI prints it (or its JSON) and exits."""

from __future__ import annotations


class CommandError(Exception):
    """A command that cannot be done; the message says why."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
