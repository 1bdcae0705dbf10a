"""`enclave check-offline`: the network walls of job processes, proven in a real job.

Exit code 0 only when every probe was blocked and loopback still works.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from engine.cli.parser import add_command as add
from engine.netprobe import check_offline as run_check


def register(sub) -> None:
    """Add `check-offline`."""
    add(sub, "check-offline", "prove that a job process cannot reach the network: say which "
        "walls hold and try twelve ways out inside a real job", check_offline)


def format_result(result: dict[str, Any]) -> str:
    """The check's result as plain text: walls, each probe, loopback, verdict."""
    walls = result.get("walls") or {}
    lines = [f"Enclave offline check (a real job process, pid {result.get('pid', '?')})",
             f"Walls: {', '.join(walls.get('walls') or []) or 'none'}",
             f"  network namespace: {walls.get('namespace_reason', 'unknown')}",
             f"  interfaces the job sees: {', '.join(walls.get('interfaces') or []) or 'none'}",
             f"  other machines the job may reach: {', '.join(walls.get('opened_to') or []) or 'none'}"
             " (only a training run on several machines opens, to the addresses it names)",
             f"Probes: {result.get('blocked', 0)} of {result.get('total', 0)} blocked"]
    for name, probe in (result.get("probes") or {}).items():
        lines.append(f"  {probe['outcome']:<11} {name}: {probe['detail']}")
    loopback = result.get("loopback") or {}
    lines.append("Loopback: " + (", ".join(f"{k} {v}" for k, v in loopback.items()) or "not run"))
    if result.get("ok"):
        lines.append("Offline: every attempt was blocked; local coordination works.")
    else:
        lines.append(f"NOT PROVEN OFFLINE (job {result.get('state')}: "
                     f"{result.get('error') or 'see the probes above'})")
    return "\n".join(lines)


def check_offline(args: argparse.Namespace) -> int:

    result = run_check()
    print(json.dumps(result) if args.json else format_result(result), flush=True)
    return 0 if result["ok"] else 1
