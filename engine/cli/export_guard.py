"""What `enclave export` checks and does for privacy: the memorization check's verdict
(a flagged model leaves only with an acknowledgement, which the audit trail records) and
the encrypted archive."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from engine.cli.errors import CommandError
from engine.store import audit


def check_memorization(db, run_id: int, acknowledged: bool) -> None:
    """Refuse to export a flagged model unless acknowledged; warn when never checked.

    Raises:
        CommandError: when the newest check flagged the model and it was not acknowledged.
    """
    from engine.evaluate.privacy_job import latest_check

    check = latest_check(db, run_id)
    if check is None:
        print(f"warning: run {run_id} has no memorization check; run `enclave eval {run_id} "
              "--privacy` before the model leaves this machine", file=sys.stderr)
        return
    if not check["flagged"]:
        return
    tuned = check["sides"]["tuned"]
    figures = (f"exact completion {tuned['identifier']['exact']:.0%} of identifiers, "
               f"{tuned['canary']['exact']:.0%} of canaries, exposure "
               f"{tuned['canary']['exposure_max']:.1f} bits")
    if not acknowledged:
        raise CommandError(f"run {run_id}: the memorization check {check['privacy_run_id']} "
                           f"flagged this model ({figures}): it may repeat identifiers from "
                           "its training data. Nothing was exported. Export anyway with "
                           "--acknowledge-memorization (recorded in the audit trail).")
    audit.record(db, "model.export.acknowledged", f"run:{run_id}",
                 privacy_run=check["privacy_run_id"], figures=figures)
    print(f"warning: exporting a model the memorization check flagged ({figures}); "
          "acknowledged in the audit trail", file=sys.stderr)


def seal_export(db, run_id: int, folder: Path, passphrase_file: str | None) -> str:
    """Turn an export folder into an encrypted archive beside it and remove the folder."""
    from engine.cli.security import passphrase
    from engine.compress.sealed import SUFFIX, seal_folder

    phrase = passphrase(passphrase_file, "Archive passphrase: ", confirm=True)
    archive = seal_folder(folder, folder.with_name(folder.name + SUFFIX), phrase)
    shutil.rmtree(folder)
    audit.record(db, "model.export.sealed", f"run:{run_id}", path=str(archive))
    return str(archive)
