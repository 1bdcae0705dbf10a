"""`enclave …`: a thin command line over the engine (parse, run the job, print).

One module per command group (projects, data, select, train, dpo, compress, eval, doctor,
offline). Every command takes ``--json`` and then prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys

import engine  # noqa: F401  (offline switches before anything else)
from engine.cli.errors import CommandError
from engine.cli.parser import build_parser
from engine.cli.security import unlock


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        if not getattr(args, "handles_key", False):
            unlock(args.passphrase_file)
        result = args.func(args)
    except CommandError as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}))
        else:
            print(f"enclave: {exc}", file=sys.stderr)
        return exc.exit_code
    if isinstance(result, int):
        return result
    if args.json:
        print(json.dumps(result, default=str))
    return 0
