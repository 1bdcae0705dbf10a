"""Twelve ways a job could try to reach the network, tried inside a real job process.

:func:`offline_probe_job` (job kind ``check.offline``) makes each attempt and
records whether a wall refused it. Every target is a reserved documentation
address (TEST-NET-2 and -3, RFC 5737) or a name under ``.invalid`` (RFC 6761), so
nothing real is contacted even where a wall fails. It also checks that local
coordination still works: TCP and UDP over loopback and a Unix socket.

:func:`check_offline` runs that job through :class:`engine.jobs.runner.JobRunner`
in a throw-away workspace, exactly as every job runs.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

JOB_KIND = "check.offline"
HOST_A, HOST_B = "198.51.100.1", "203.0.113.1"  # TEST-NET-2, TEST-NET-3
PORT = 9  # discard
NAME = "example.invalid"
TIMEOUT_S = 1.0
URL = f"http://{HOST_B}:{PORT}/"


def _tcp(sock_type: Callable[..., Any] = socket.socket) -> Any:
    sock = sock_type(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT_S)
    return sock


def _udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _connect() -> str:
    with _tcp() as sock:
        sock.connect((HOST_A, PORT))
    return "connected"


def _connect_ex() -> str:
    with _tcp() as sock:
        return f"connect_ex returned {errno.errorcode.get(sock.connect_ex((HOST_A, PORT)), 0)}"


def _getaddrinfo() -> str:
    return f"resolved to {socket.getaddrinfo(NAME, 443)[0][4]}"


def _gethostbyname() -> str:
    return f"resolved to {socket.gethostbyname(NAME)}"


def _sendto() -> str:
    with _udp() as sock:
        return f"sent {sock.sendto(b'enclave-probe', (HOST_B, PORT))} bytes"


def _sendmsg() -> str:
    with _udp() as sock:
        return f"sent {sock.sendmsg([b'enclave-probe'], [], 0, (HOST_B, PORT))} bytes"


def _bytes_address() -> str:
    with _tcp() as sock:
        sock.connect((HOST_B.encode(), PORT))
    return "connected"


def _low_level_socket() -> str:
    import _socket

    sock = _tcp(_socket.socket)  # no context manager at this level
    try:
        sock.connect((HOST_A, PORT))
    finally:
        sock.close()
    return "connected"


def _create_connection() -> str:
    socket.create_connection((HOST_A, PORT), timeout=TIMEOUT_S).close()
    return "connected"


def _curl_subprocess() -> str:
    tool = shutil.which("curl") or "curl"
    done = subprocess.run([tool, "-s", "--max-time", "2", URL], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=10)
    return f"{tool} ran (exit code {done.returncode})"


def _os_system() -> str:
    code = os.system(f"curl -s --max-time 2 {URL} >/dev/null 2>&1")
    return f"the shell ran (status {code})"


def _urlopen() -> str:
    import urllib.request

    with urllib.request.urlopen(URL, timeout=TIMEOUT_S) as answer:
        return f"answered {answer.status}"


PROBES: dict[str, Callable[[], str]] = {
    "socket.connect": _connect,
    "socket.connect_ex": _connect_ex,
    "socket.getaddrinfo": _getaddrinfo,
    "socket.gethostbyname": _gethostbyname,
    "UDP sendto": _sendto,
    "UDP sendmsg": _sendmsg,
    "connect with a bytes address": _bytes_address,
    "_socket (low-level module) connect": _low_level_socket,
    "socket.create_connection": _create_connection,
    "curl in a subprocess": _curl_subprocess,
    "os.system with curl": _os_system,
    "urllib.request.urlopen": _urlopen,
}


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        reason = getattr(exc, "reason", None)  # urllib's URLError wraps the cause here
        exc = reason if isinstance(reason, BaseException) else exc.__cause__ or exc.__context__


def judge(exc: BaseException) -> str:
    """Classify a failed attempt.

    Returns:
        ``refused`` (Enclave's audit wall refused it), ``unreachable`` (the
        operating system has no route: the empty network namespace), or
        ``through`` (no wall stopped it; the failure came from elsewhere).
    """
    from engine.offline import NetworkBlocked

    for item in _chain(exc):
        if isinstance(item, NetworkBlocked):
            return "refused"
        if isinstance(item, OSError) and item.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "unreachable"
    return "through"


def run_probe(probe: Callable[[], str]) -> dict[str, str]:
    """Make one attempt; returns its ``outcome`` and a ``detail`` line."""
    try:
        return {"outcome": "through", "detail": probe()}
    except Exception as exc:  # noqa: BLE001  (every failure is classified, none escapes)
        return {"outcome": judge(exc), "detail": f"{type(exc).__name__}: {exc}"}


def probe(name: str) -> dict[str, str]:
    """Run one probe by its name in :data:`PROBES` (a worker process can call this)."""
    return run_probe(PROBES[name])


def run_here() -> dict[str, Any]:
    """Every probe and the loopback checks in this process, without a job."""
    return {"probes": {name: run_probe(item) for name, item in PROBES.items()},
            "loopback": loopback_checks()}


def loopback_checks() -> dict[str, str]:
    """TCP and UDP over 127.0.0.1 and a Unix socket: each ``ok`` or the error."""
    found = {}
    for name, check in (("tcp 127.0.0.1", _loop_tcp), ("udp 127.0.0.1", _loop_udp),
                        ("unix socket", _loop_unix)):
        try:
            check()
            found[name] = "ok"
        except Exception as exc:  # noqa: BLE001
            found[name] = f"{type(exc).__name__}: {exc}"
    return found


def _loop_tcp() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=TIMEOUT_S) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"ping")
                assert peer.recv(4) == b"ping"


def _loop_udp() -> None:
    with _udp() as server, _udp() as client:
        server.bind(("127.0.0.1", 0))
        client.sendto(b"ping", server.getsockname())
        assert server.recv(4) == b"ping"


def _loop_unix() -> None:
    with tempfile.TemporaryDirectory() as tmp, socket.socket(socket.AF_UNIX) as server:
        path = os.path.join(tmp, "s")
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(path)


def _walls() -> dict[str, Any]:
    try:
        from engine import netwall
    except ImportError:
        return {}
    return netwall.active_walls()


def offline_probe_job(ctx: Any) -> dict[str, Any]:
    """Job kind ``check.offline``: every probe, the loopback checks and the walls.

    Returns:
        ``probes`` (name → outcome and detail), ``blocked`` and ``total``,
        ``loopback`` (name → ``ok`` or error), ``walls`` and the job's ``pid``.
    """
    results = {}
    for step, (name, probe) in enumerate(PROBES.items(), start=1):
        results[name] = run_probe(probe)
        ctx.reporter.report(step, len(PROBES), name)
    blocked = sum(item["outcome"] != "through" for item in results.values())
    return {"pid": os.getpid(), "probes": results, "blocked": blocked, "total": len(PROBES),
            "loopback": loopback_checks(), "walls": _walls()}


@contextmanager
def _scratch_home() -> Iterator[Path]:
    before = os.environ.get("ENCLAVE_HOME")
    with tempfile.TemporaryDirectory(prefix="enclave-offline-") as tmp:
        os.environ["ENCLAVE_HOME"] = tmp
        try:
            yield Path(tmp)
        finally:
            if before is None:
                os.environ.pop("ENCLAVE_HOME", None)
            else:
                os.environ["ENCLAVE_HOME"] = before


def check_offline(timeout_s: float = 120.0, params: dict | None = None) -> dict[str, Any]:
    """Run :func:`offline_probe_job` as a real job in a throw-away workspace.

    Args:
        timeout_s: How long to wait for the job.
        params: The job's parameters (the probe ignores them; a test passes a cluster plan
            to show that a job other than a cluster training run is never opened).

    Returns:
        The job's result plus ``state``, ``error`` and ``ok`` (every probe
        blocked, loopback working and the walls opened to no other machine).
    """
    # Lazy: the probe process must still be single-threaded when it enters the namespace.
    from engine.jobs.runner import JobRunner
    from engine.store import open_store

    with _scratch_home() as home:
        db_path = home / "workspace.sqlite3"
        open_store(db_path).conn.close()
        runner = JobRunner(db_path)
        job_id = runner.submit(JOB_KIND, params or {})
        row = runner.wait(job_id, timeout=timeout_s)
        if runner.running():
            runner.shutdown(grace_s=1.0)
    result = dict(row.get("result") or {})
    result.update(state=row["state"], error=row.get("error") or "")
    loopback = result.get("loopback") or {}
    result["ok"] = bool(result.get("total")) and result["blocked"] == result["total"] \
        and bool(loopback) and all(value == "ok" for value in loopback.values()) \
        and not (result.get("walls") or {}).get("opened_to")
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run_here()))
