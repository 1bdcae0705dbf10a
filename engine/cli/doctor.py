"""`enclave doctor`: print the self-check; exit code 0 when all is well, 1 otherwise."""

from __future__ import annotations

import argparse
import json

from engine import doctor as checks
from engine.cli.parser import add_command as add
from engine.doctor import CHECKS, Report


def register(sub) -> None:
    """Add `doctor`."""
    add(sub, "doctor", "self-check for a support ticket: versions, device, models, "
        "workspace, disk and a live proof that jobs cannot reach the network", doctor,
        (("--skip",), {"action": "append", "default": [], "choices": sorted(CHECKS),
                       "help": "leave one check out (repeatable)"}))


def format_report(report: Report) -> str:
    """The report as plain text, one finding a line, grouped by section."""
    lines, section = [], None
    for item in report.findings:
        if item.section != section:
            section = item.section
            lines.append(f"\n[{section}]")
        mark = "PROBLEM" if item.problem else "ok"
        lines.append(f"  {mark:<7} {item.label}: {item.value}")
        if item.problem:
            lines.append(f"          {item.problem} — {item.fix}")
    verdict = ("All checks passed." if report.ok else
               f"{len(report.problems)} problem(s) found; each says what to do.")
    return "Enclave doctor" + "\n".join(lines) + "\n\n" + verdict


def doctor(args: argparse.Namespace) -> dict | int:

    report = checks.run(skip=tuple(args.skip))
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(format_report(report), flush=True)
    return 0 if report.ok else 1
