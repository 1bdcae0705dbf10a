"""Live proof that a job process cannot open a network connection.

:func:`prove_offline` starts a real job child process, exactly as every job runs
(:class:`engine.jobs.runner.JobRunner`, in a throw-away workspace), and the job
:func:`network_probe_job` tries to connect to 192.0.2.1 (TEST-NET-1, an address
reserved for documentation that no machine owns). The probe only tries once it
has seen Enclave's network guard installed in its process, so the guard refuses
the attempt before any packet is sent; if the guard is missing, nothing is tried
and the check fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

PROBE_ADDRESS = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737), discard port
JOB_KIND = "selftest.network"


def network_probe_job(ctx: Any) -> dict[str, Any]:
    """Job kind ``selftest.network``: try a non-local connection inside the job process.

    Returns:
        ``guard_installed``, ``blocked`` (the guard refused the attempt), the
        refusal message and the job's pid.
    """
    import socket

    from engine.offline import NetworkBlocked

    guard = bool(getattr(socket.socket.connect, "_enclave_blocked", False))
    result: dict[str, Any] = {"pid": os.getpid(), "guard_installed": guard, "blocked": False}
    if not guard:
        result["detail"] = "the network guard is not installed in the job process; nothing was tried"
        return result
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(1.0)
    try:
        sock.connect(PROBE_ADDRESS)
        result["detail"] = f"a connection to {PROBE_ADDRESS[0]} was opened"
    except NetworkBlocked as exc:
        result.update(blocked=True, detail=str(exc))
    except OSError as exc:
        result["detail"] = f"the guard let the attempt through; the system refused it ({exc})"
    finally:
        sock.close()
    return result


@contextmanager
def _scratch_home() -> Iterator[Path]:
    """A temporary ENCLAVE_HOME, so the proof leaves no job in the user's workspace."""
    before = os.environ.get("ENCLAVE_HOME")
    with tempfile.TemporaryDirectory(prefix="enclave-doctor-") as tmp:
        os.environ["ENCLAVE_HOME"] = tmp
        try:
            yield Path(tmp)
        finally:
            if before is None:
                os.environ.pop("ENCLAVE_HOME", None)
            else:
                os.environ["ENCLAVE_HOME"] = before


def prove_offline(timeout_s: float = 120.0) -> dict[str, Any]:
    """Run :func:`network_probe_job` as a real job child process and return its result.

    Returns:
        The probe's result, plus ``state`` (the job's final state) and ``error``.
    """
    from engine.jobs.runner import JobRunner
    from engine.store import open_store

    with _scratch_home() as home:
        db_path = home / "workspace.sqlite3"
        open_store(db_path).conn.close()
        runner = JobRunner(db_path)
        job_id = runner.submit(JOB_KIND, {})
        row = runner.wait(job_id, timeout=timeout_s)
        if row["state"] not in ("succeeded", "failed", "cancelled", "interrupted"):
            runner.shutdown(grace_s=1.0)
        result = dict(row.get("result") or {})
        result.update(state=row["state"], error=row.get("error") or "")
        return result


def unshare_available() -> tuple[bool, str]:
    """Whether ``unshare -rn`` (a network namespace with no interfaces) works here.

    Returns:
        ``(available, reason)``.
    """
    tool = shutil.which("unshare")
    if tool is None:
        return False, "the unshare tool is not installed (util-linux)"
    try:
        done = subprocess.run([tool, "-rn", "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if done.returncode == 0:
        return True, "unshare -rn works (user and network namespaces allowed)"
    return False, (done.stderr.strip() or f"exit code {done.returncode}")
