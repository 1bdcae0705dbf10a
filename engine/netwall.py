"""The audit wall: a Python audit hook in every job process that refuses the network.

:func:`seal_job_process` runs first in every job process. It enters an empty
network namespace where the operating system allows it (:mod:`engine.netns`) and,
in every case, installs an audit hook (``sys.addaudithook``; it cannot be removed)
that judges each attempt on its numeric address:

* sockets: ``connect``, ``sendto``, ``sendmsg`` and ``bind`` are allowed for Unix
  and netlink sockets, and for IPv4/IPv6 only when the address is a numeric
  loopback address (127.0.0.0/8, ::1) or ``localhost``; any other name is refused
  (resolving it would itself leave the machine). Socket families other than Unix,
  IPv4, IPv6 and netlink (raw packet sockets and the like) cannot be created.
* name lookups (``getaddrinfo``, ``gethostbyname[_ex]``, ``gethostbyaddr``,
  ``getnameinfo``) only for ``localhost`` or numeric loopback addresses.
* client libraries (``urllib``, ``http.client``, ftp, mail, telnet) only towards
  loopback; ``webbrowser`` never.
* programs: an allowlist. A job may start the Python interpreter that runs it,
  for Enclave's own modules (``-m engine…``) or the standard library's
  multiprocessing bootstrap, and the local device tools the model libraries
  query (``nvidia-smi``, ``rocminfo``, ``ldconfig``). Everything else is refused,
  shell lines (``os.system``) included. Python children inherit
  ``ENCLAVE_JOB_PROCESS=1`` and install the same hook when they import
  :mod:`engine`.

What it cannot see: native code that opens sockets without Python (a C
extension, ``ctypes``). The namespace wall covers those where it holds.

The one opening: a training job on several machines whose plan names them
(:mod:`engine.netwall_cluster`). The job runner grants it through
``ENCLAVE_JOB_CLUSTER``; such a job process stays out of the namespace (its
collective libraries must reach the other machines from native code) and its
hook admits loopback and exactly the listed numeric addresses (connects, sends,
binds, URLs and forward lookups, which parse a numeric address without asking a
name server; reverse lookups stay loopback-only, since they would ask one).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from typing import Any, Callable
from urllib.parse import urlsplit

from engine import netns, netwall_cluster
from engine.netwall_programs import judge_program
from engine.offline import NetworkBlocked

JOB_ENV = "ENCLAVE_JOB_PROCESS"
HOOK_WALL = "audit hook"
NAMESPACE_WALL = "network namespace (no interfaces)"
_LOCAL_FAMILIES = {socket.AF_UNIX, getattr(socket, "AF_NETLINK", socket.AF_UNIX)}
_IP_FAMILIES = {socket.AF_INET, socket.AF_INET6}
_STATE: dict[str, Any] = {"hook": False, "namespace": False, "namespace_reason": "not tried",
                          "cluster": ()}


def _refuse(what: str) -> NetworkBlocked:
    return NetworkBlocked(f"Enclave is offline: {what} refused in a job process.")


def is_loopback_host(host: object) -> bool:
    """True for ``localhost`` and numeric loopback addresses (127.0.0.0/8, ::1)."""
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name (resolving it would leave the machine) or a garbled address
        return False


def is_allowed_host(host: object) -> bool:
    """Loopback, or an address of the cluster this job process was opened to."""
    return is_loopback_host(host) or netwall_cluster.is_listed(host, _STATE["cluster"])


def _check_address(sock: Any, address: Any, verb: str) -> None:
    family = getattr(sock, "family", None)
    if family in _LOCAL_FAMILIES or address is None:
        return  # Unix/netlink, or sendmsg on an already connected socket
    if family in _IP_FAMILIES:
        host = address[0] if isinstance(address, tuple) and address else address
        if is_allowed_host(host):
            return
    raise _refuse(f"{verb} {address!r}")


def _check_family(family: Any) -> None:
    if family in _IP_FAMILIES or family in _LOCAL_FAMILIES or family == -1:
        return
    raise _refuse(f"a socket of address family {family!r}")


def _check_lookup(host: Any, what: str = "lookup of") -> None:
    if host is None or is_allowed_host(host):
        return  # a numeric cluster address is parsed, not looked up
    raise _refuse(f"{what} {host!r}")


def _check_reverse_lookup(host: Any) -> None:
    if host is None or is_loopback_host(host):
        return  # a cluster address is not: its reverse lookup would ask a name server
    raise _refuse(f"reverse lookup of {host!r}")


def _check_url(url: Any) -> None:
    host = urlsplit(str(url)).hostname
    if host is None or is_allowed_host(host):
        return  # file: and data: URLs have no host
    raise _refuse(f"opening {url!r}")


def _check_program(executable: Any, argv: Any) -> None:
    reason = judge_program(executable, argv)
    if reason:
        raise _refuse(reason)


def _refuse_shell(command: Any) -> None:
    raise _refuse(f"the shell command {command!r} (a shell line cannot be judged)")


def _refuse_browser(url: Any) -> None:
    raise _refuse(f"opening a web browser at {url!r}")


_EVENTS: dict[str, Callable[[tuple], None]] = {
    "socket.connect": lambda a: _check_address(a[0], a[1], "connection to"),
    "socket.sendto": lambda a: _check_address(a[0], a[1], "sending to"),
    "socket.sendmsg": lambda a: _check_address(a[0], a[1], "sending to"),
    "socket.bind": lambda a: _check_address(a[0], a[1], "listening on"),
    "socket.__new__": lambda a: _check_family(a[1]),
    "socket.getaddrinfo": lambda a: _check_lookup(a[0]),
    "socket.gethostbyname": lambda a: _check_lookup(a[0]),
    "socket.gethostbyname_ex": lambda a: _check_lookup(a[0]),
    "socket.gethostbyaddr": lambda a: _check_reverse_lookup(a[0]),
    "socket.getnameinfo": lambda a: _check_reverse_lookup(a[0][0] if a[0] else None),
    "urllib.Request": lambda a: _check_url(a[0]),
    "webbrowser.open": lambda a: _refuse_browser(a[0]),
    "subprocess.Popen": lambda a: _check_program(a[0], a[1]),
    "os.exec": lambda a: _check_program(a[0], a[1]),
    "os.posix_spawn": lambda a: _check_program(a[0], a[1]),
    "os.spawn": lambda a: _check_program(a[1], a[2]),
    "os.system": lambda a: _refuse_shell(a[0]),
    "os.startfile": lambda a: _check_program(a[0], [a[0]]),
}
for _event in ("http.client.connect", "ftplib.connect", "smtplib.connect", "poplib.connect",
               "imaplib.open", "nntplib.connect", "telnetlib.Telnet.open"):
    _EVENTS[_event] = lambda a: _check_lookup(a[1], "connection to")


def _hook(event: str, args: tuple) -> None:
    check = _EVENTS.get(event)
    if check is None:
        return
    try:
        check(args)
    except NetworkBlocked:
        raise
    except Exception as exc:  # fail closed: an attempt that cannot be judged is refused
        raise _refuse(f"{event} (could not be judged: {exc})") from exc


def _guard_fork_exec() -> None:
    """Judge programs that multiprocessing starts without raising an audit event."""
    try:
        import _posixsubprocess
    except ImportError:  # Windows
        return
    original = _posixsubprocess.fork_exec
    if getattr(original, "_enclave_guarded", False):
        return

    def fork_exec(args, executable_list, *rest):
        paths = [os.fsdecode(item) for item in executable_list or ()]
        program = next((item for item in paths if os.path.exists(item)), None)
        _check_program(program or (paths[0] if paths else None), args)
        return original(args, executable_list, *rest)

    fork_exec._enclave_guarded = True  # type: ignore[attr-defined]
    _posixsubprocess.fork_exec = fork_exec


def install_audit_hook() -> None:
    """Install the audit wall in this process (once; it stays until the process ends).

    The cluster addresses it admits besides loopback are read once, here, from
    ``ENCLAVE_JOB_CLUSTER`` (see :func:`engine.netwall_cluster.from_environment`).
    """
    if _STATE["hook"]:
        return
    _STATE["cluster"] = netwall_cluster.from_environment()
    _guard_fork_exec()
    sys.addaudithook(_hook)
    _STATE["hook"] = True
    os.environ[JOB_ENV] = "1"  # Python children install it too when they import engine
    os.environ[netwall_cluster.CLUSTER_ENV] = ",".join(_STATE["cluster"])


def seal_job_process() -> dict[str, Any]:
    """Raise every wall a job process can have; call first, before any thread starts.

    Returns:
        :func:`active_walls`.
    """
    cluster = netwall_cluster.from_environment()
    if _STATE["hook"]:  # a Python child of a job process: it shares its parent's namespace
        _STATE["namespace_reason"] = "not tried here: shared with the job process that started it"
    elif cluster:
        _STATE["namespace_reason"] = (
            f"not entered: a cluster training run opened to {', '.join(cluster)} (gloo/NCCL "
            "connect from native code); the audit hook admits those addresses only")
    elif not _STATE["namespace"]:
        entered, reason = netns.enter_empty_network()
        _STATE.update(namespace=entered, namespace_reason=reason)
    install_audit_hook()
    return active_walls()


def active_walls() -> dict[str, Any]:
    """The walls that hold in this process.

    Returns:
        ``walls`` (names of the active walls), ``audit_hook`` and ``namespace``
        (booleans), ``namespace_reason``, ``interfaces`` (those visible here) and
        ``opened_to`` (the cluster addresses the hook admits; empty for every
        ordinary job).
    """
    walls = [NAMESPACE_WALL] if _STATE["namespace"] else []
    walls += [HOOK_WALL] if _STATE["hook"] else []
    return {"walls": walls, "audit_hook": _STATE["hook"], "namespace": _STATE["namespace"],
            "namespace_reason": _STATE["namespace_reason"], "interfaces": netns.interfaces(),
            "opened_to": list(_STATE["cluster"])}


def wall_status(timeout_s: float = 60.0) -> dict[str, Any]:
    """Which walls a job process gets on this machine.

    A fresh Python process raises its walls exactly as a job process does and
    reports them (this process is left as it is).

    Returns:
        :func:`active_walls` of that process, or ``error`` when it could not say.
    """
    import json
    import subprocess

    try:
        env = {**os.environ, netwall_cluster.CLUSTER_ENV: ""}  # an ordinary job's walls
        done = subprocess.run([sys.executable, "-m", "engine.netwall"], capture_output=True,
                              text=True, timeout=timeout_s, stdin=subprocess.DEVNULL, env=env)
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        return {"walls": [], "audit_hook": False, "namespace": False,
                "namespace_reason": "unknown", "interfaces": [], "opened_to": [],
                "error": str(exc)}


if __name__ == "__main__":
    import json

    print(json.dumps(seal_job_process()))
