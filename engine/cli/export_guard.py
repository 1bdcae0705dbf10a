"""What `enclave export` checks and does for privacy: the memorization check's verdict
(a flagged model leaves only with an acknowledgement, which the audit trail records) and
the encrypted archive."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.cli.errors import CommandError
from engine.cli.security import passphrase
from engine.evaluate.export_check import MemorizationRefused, require_acknowledgement


def check_memorization(db, run_id: int, acknowledged: bool) -> None:
    """Refuse to export a flagged model unless acknowledged; warn when never checked.
    The rule (and the audit of an acknowledgement) is
    :func:`engine.evaluate.export_check.require_acknowledgement`, shared with the window.

    Raises:
        CommandError: when the newest check flagged the model and it was not acknowledged.
    """

    try:
        verdict = require_acknowledgement(db, run_id, acknowledged)
    except MemorizationRefused as exc:
        raise CommandError(f"{exc} Export anyway with --acknowledge-memorization (recorded "
                           "in the audit trail).") from exc
    if not verdict.checked:
        print(f"warning: run {verdict.trained_run_id} has no memorization check; run `enclave "
              f"eval {verdict.trained_run_id} --privacy` before the model leaves this machine",
              file=sys.stderr)
    elif verdict.flagged:
        print(f"warning: exporting a model the memorization check flagged "
              f"({verdict.figures()}); acknowledged in the audit trail", file=sys.stderr)


def seal_export(db, run_id: int, folder: Path, passphrase_file: str | None) -> str:
    """Turn an export folder into an encrypted archive beside it and remove the folder."""
    from engine.compress.export_seal import seal_export as seal

    phrase = passphrase(passphrase_file, "Archive passphrase: ", confirm=True)
    return str(seal(db, run_id, folder, phrase))
