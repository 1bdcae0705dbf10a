"""The job kinds Enclave can run. Only these names resolve: a job row can never
name arbitrary code to import."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable

import sqlite_utils

from engine.progress import Reporter

JOB_KINDS: dict[str, str] = {
    "chat": "engine.evaluate.chat_job:chat_job",
    "compress": "engine.compress.job:compress_job",
    "data.clean": "engine.data.job:clean_job",
    "data.import": "engine.data.job:import_job",
    "demo": "engine.demo.pipeline:run_demo_job",
    "train": "engine.train.job:run_train_job",
    "train.dpo": "engine.train.dpo_job:run_dpo_job",
    "drift": "engine.evaluate.drift_job:drift_job",
    "evaluate": "engine.evaluate.job:evaluate_job",
    "evaluate.privacy": "engine.evaluate.privacy_job:privacy_job",
    "export": "engine.compress.job:export_job",
    "select": "engine.select.job:run_select_job",
    "check.offline": "engine.netprobe:offline_probe_job",
}
# A test suite may add kinds named "test.*" from the module this variable names.
TEST_KINDS_ENV = "ENCLAVE_TEST_JOB_KINDS"


@dataclass
class JobContext:
    """What a job function receives: its row, params, the store and a reporter."""

    db: sqlite_utils.Database
    job_id: int
    project_id: int | None
    params: dict
    reporter: Reporter = field(default_factory=Reporter)


JobFunction = Callable[[JobContext], Any]


class UnknownJobKind(KeyError):
    """A job row names a kind this Enclave does not know."""


def resolve(kind: str) -> JobFunction:
    """The function that runs a job kind.

    Raises:
        UnknownJobKind: if the kind is not registered.
    """
    kinds = {**JOB_KINDS, **_test_kinds()}
    if kind not in kinds:
        raise UnknownJobKind(f"Unknown job kind '{kind}'. Known: {', '.join(sorted(JOB_KINDS))}")
    module, _, name = kinds[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def _test_kinds() -> dict[str, str]:
    module = os.environ.get(TEST_KINDS_ENV)
    if not module:
        return {}
    kinds = importlib.import_module(module).JOB_KINDS
    return {kind: target for kind, target in kinds.items() if kind.startswith("test.")}
