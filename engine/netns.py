"""The operating-system wall: a job process in a network namespace with no interfaces.

On Linux, where unprivileged user namespaces are allowed, a job process calls
``unshare(CLONE_NEWUSER | CLONE_NEWNET)`` before it does anything else. It then
sees one network interface, its own loopback (brought up so that local
coordination keeps working), and no route to any other machine; its children
inherit the same empty namespace. The user id is mapped to itself, so files keep
their owner and the workspace, models and logs are read and written as before.

Where the kernel refuses (containers without user namespaces, hardened kernels),
or on macOS and Windows, nothing changes and the audit wall
(:mod:`engine.netwall`) holds alone. ``ENCLAVE_JOB_NETNS=0`` turns the namespace
off, for debugging.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct
import sys
import threading

SWITCH = "ENCLAVE_JOB_NETNS"
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
IFREQ_SIZE = 40  # struct ifreq on Linux: 16-byte name + 24-byte union


def switched_off() -> bool:
    """True when ``ENCLAVE_JOB_NETNS=0`` asks for no namespace."""
    return os.environ.get(SWITCH, "1").strip().lower() in ("0", "no", "off", "false")


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _map_ids(uid: int, gid: int) -> None:
    """Map this process's user and group to themselves inside the new user namespace."""
    try:
        _write("/proc/self/setgroups", "deny")
    except FileNotFoundError:  # kernels before 3.19 have no setgroups switch
        pass
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def _loopback_up() -> None:
    """Bring ``lo`` up: a new network namespace starts with it down."""
    import fcntl  # POSIX only; this module's callers check for Linux first

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0).ljust(IFREQ_SIZE, b"\0")
        flags = struct.unpack_from("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS,
                    struct.pack("16sH", b"lo", flags | IFF_UP).ljust(IFREQ_SIZE, b"\0"))


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))  # native threads too
    except OSError:
        return threading.active_count()


def _unshare() -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        return 0
    return ctypes.get_errno() or errno.EPERM


def enter_empty_network() -> tuple[bool, str]:
    """Move this process into a new network namespace with only loopback.

    Must run before the process starts any thread (the kernel refuses a new
    user namespace to a multi-threaded process).

    Returns:
        ``(entered, reason)``: whether the namespace wall now holds, and why not.
    """
    if switched_off():
        return False, f"turned off by {SWITCH}=0"
    if not sys.platform.startswith("linux"):
        return False, f"not available on {sys.platform} (Linux only)"
    if _thread_count() > 1:
        return False, "the process already runs threads"
    uid, gid = os.getuid(), os.getgid()
    code = _unshare()
    if code:
        return False, f"the kernel refused unshare(user, network): {os.strerror(code)}"
    try:
        _map_ids(uid, gid)
    except OSError as exc:
        return True, f"entered, but user ids stay unmapped ({exc.strerror})"
    try:
        _loopback_up()
    except OSError as exc:
        return True, f"entered, but loopback stays down ({exc.strerror})"
    return True, "entered: only loopback, no route to any other machine"


def interfaces() -> list[str]:
    """Names of the network interfaces this process can see."""
    try:
        return [name for _, name in socket.if_nameindex()]
    except OSError:
        return []
