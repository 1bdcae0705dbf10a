"""The one opening in the network walls: a training run on several machines of a cluster.

A training job whose launch plan spans more than one machine must reach the other machines:
the collective libraries (gloo on CPUs, NCCL on GPUs) and torchrun's rendezvous connect from
native code, which no Python hook sees and which cannot leave an empty network namespace. Such
a run is opened only when the user names the machines (``allow_cluster``, e.g.
``enclave train … --machines 2 --main-address 10.0.0.5 --allow-cluster 10.0.0.5,10.0.0.6``)
and only to private addresses. Everything else stays as for every job:

* :func:`cluster_opening` is the only place that grants the opening: job kind ``train``, a
  plan with ``machines`` > 1 and a valid ``allow_cluster``; anything else gets nothing.
* the job process does not enter the loopback-only namespace (see :mod:`engine.netns`); the
  audit hook (:mod:`engine.netwall`) admits Python-level connects, sends, binds and lookups to
  loopback and the listed addresses only, and the program allowlist is unchanged;
* :func:`collective_environment` pins gloo and NCCL to the interface that holds this
  machine's listed address (``GLOO_SOCKET_IFNAME``, ``NCCL_SOCKET_IFNAME``);
* :func:`foreign_connections`, polled while the run lasts, lists any socket of the run's
  processes whose peer is neither loopback nor listed, so that the run is stopped.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any, Iterable

CLUSTER_ENV = "ENCLAVE_JOB_CLUSTER"
TRAIN_KIND = "train"
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "127.0.0.0/8", "::1/128",  # loopback
    "169.254.0.0/16", "fe80::/10",  # link-local
    "fc00::/7"))  # unique local (ULA)
_KINDS = "private (RFC 1918: 10/8, 172.16/12, 192.168/16), loopback, link-local or ULA (fc00::/7)"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        raise ValueError(f"allow_cluster: {text.strip()!r} is not a numeric IP address (name "
                         "each machine by its address on the cluster network; looking a name "
                         "up would itself leave the machine)") from None
    if not any(address in net for net in PRIVATE_NETWORKS if net.version == address.version):
        raise ValueError(f"allow_cluster: {address} is not a private address; a cluster run "
                         f"may open only to {_KINDS} addresses")
    return address


def parse_addresses(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The machines' addresses of ``--allow-cluster`` (comma-separated text or a list).

    Returns:
        The addresses in their normal form, in order, without repeats.

    Raises:
        ValueError: naming an address that is not numeric or not private.
    """
    items = value.split(",") if isinstance(value, str) else list(value or ())
    found: list[str] = []
    for item in items:
        if str(item).strip():
            text = str(_address(str(item)))
            found += [text] if text not in found else []
    return tuple(found)


def check_plan_opening(machines: int, main_address: str, allow: Iterable[str]) -> tuple[str, ...]:
    """Check a launch plan's ``allow_cluster`` against its machines and main address.

    Returns:
        The normalised addresses (empty when the plan opens nothing).

    Raises:
        ValueError: an opening on one machine, a bad address, or a main address not listed.
    """
    addresses = parse_addresses(allow)
    if not addresses:
        return ()
    if machines < 2:
        raise ValueError("allow_cluster opens the network walls for a run on several machines "
                         "only; a run on this machine needs no opening")
    if not is_listed(main_address, addresses):
        raise ValueError(f"allow_cluster must list the main address {main_address} "
                         f"(listed: {', '.join(addresses)})")
    return addresses


def cluster_opening(kind: str, launch: dict[str, Any] | None) -> tuple[str, ...]:
    """The addresses a job may reach: only a training job on several machines that names them.

    Never raises: anything that is not a valid cluster plan gets no opening (the job then
    stays behind every wall, and a plan with a bad opening fails in the job with its reason).
    """
    launch = launch if isinstance(launch, dict) else {}
    machines = launch.get("machines", 1)
    if kind != TRAIN_KIND or not isinstance(machines, int) or machines < 2:
        return ()
    try:
        return check_plan_opening(machines, str(launch.get("main_address", "")),
                                  launch.get("allow_cluster") or ())
    except (TypeError, ValueError):
        return ()


def from_environment() -> tuple[str, ...]:
    """The opening a job process was granted (``ENCLAVE_JOB_CLUSTER``); invalid: none."""
    try:
        return parse_addresses(os.environ.get(CLUSTER_ENV, ""))
    except ValueError:
        return ()


def is_listed(host: Any, addresses: Iterable[str]) -> bool:
    """True when ``host`` is a numeric address equal to one of ``addresses``."""
    if isinstance(host, (bytes, bytearray)):
        host = bytes(host).decode("ascii", "replace")
    if not isinstance(host, str) or not addresses:
        return False
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address
    return str(address) in set(addresses)


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def local_interface(addresses: Iterable[str]) -> tuple[str, str]:
    """The network interface of this machine that holds one of ``addresses``.

    Returns:
        ``(interface, address)``.

    Raises:
        ValueError: when no interface here holds a listed address (this machine is not one of
            the named machines).
    """
    import psutil

    listed = set(addresses)
    held = {}
    for name, items in psutil.net_if_addrs().items():
        for item in items:
            if item.family.name in ("AF_INET", "AF_INET6"):
                held.setdefault(item.address.split("%")[0], name)
    for address in listed:
        if address in held:
            return held[address], address
    for address in listed:  # 127.0.0.2 and the like live on the loopback interface
        if _is_loopback(address):
            loop = next((name for addr, name in held.items() if _is_loopback(addr)), None)
            if loop:
                return loop, address
    raise ValueError(f"none of this machine's addresses ({', '.join(sorted(held))}) is in "
                     f"allow_cluster ({', '.join(sorted(listed))}): run the cluster's "
                     "processes only on the machines it names")


def collective_environment(addresses: Iterable[str]) -> dict[str, str]:
    """Environment that pins gloo and NCCL to this machine's cluster interface.

    Raises:
        ValueError: from :func:`local_interface`.
    """
    interface, _ = local_interface(addresses)
    return {"GLOO_SOCKET_IFNAME": interface, "NCCL_SOCKET_IFNAME": interface,
            CLUSTER_ENV: ",".join(addresses)}


def foreign_connections(pid: int, addresses: Iterable[str]) -> list[str]:
    """Sockets of process ``pid`` and its descendants whose peer is neither loopback nor listed.

    Returns:
        One line per such socket: ``"pid 123 (python) -> 192.0.2.7:443"``.
    """
    import psutil

    listed = set(addresses)
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    found = []
    for process in processes:
        try:
            connections = process.net_connections(kind="inet")
            name = process.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        for item in connections:
            peer = item.raddr.ip.split("%")[0] if item.raddr else ""
            if peer and not _is_loopback(peer) and not is_listed(peer, listed):
                found.append(f"pid {process.pid} ({name}) -> {peer}:{item.raddr.port}")
    return found
