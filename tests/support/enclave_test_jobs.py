"""Job kinds that exercise the runner itself, for the tests only: counting with progress,
raising, dying hard, ignoring cancel. tests/conftest.py makes them resolvable (in the test
process and in job processes) through ``ENCLAVE_TEST_JOB_KINDS``; a real install has none."""

from __future__ import annotations

import os
import time

from engine.jobs.registry import JobContext


def count(ctx: JobContext) -> dict:
    """Count to ``params['n']`` with a pause per step; honours cancel."""
    n = int(ctx.params.get("n", 10))
    delay = float(ctx.params.get("delay", 0.05))
    for step in range(1, n + 1):
        ctx.reporter.check_cancel()
        time.sleep(delay)
        ctx.reporter.report(step, n, f"step {step} of {n}", value=float(step))
    return {"counted": n}


def crash(ctx: JobContext) -> dict:
    """Raise an error inside the job."""
    ctx.reporter.report(1, 2, "about to fail")
    raise ValueError(ctx.params.get("message", "deliberate failure"))


def abort(ctx: JobContext) -> dict:
    """Die without any Python clean-up, as a native crash or an OOM kill would."""
    ctx.reporter.report(1, 2, "about to die")
    os._exit(int(ctx.params.get("code", 3)))


def stubborn(ctx: JobContext) -> dict:
    """Never looks at cancel: the runner must kill it after the grace period."""
    for step in range(1, 10_000):
        time.sleep(0.05)
        ctx.reporter.report(step, 10_000, "busy")
    return {}


JOB_KINDS = {f"test.{name}": f"enclave_test_jobs:{name}"
             for name in ("count", "crash", "abort", "stubborn")}
