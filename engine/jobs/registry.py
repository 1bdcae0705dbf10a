"""The job kinds Enclave can run. Only these names resolve: a job row can never
name arbitrary code to import."""

from __future__ import annotations

import importlib
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
    "selftest.count": "engine.jobs.selftest:count",
    "selftest.crash": "engine.jobs.selftest:crash",
    "selftest.abort": "engine.jobs.selftest:abort",
    "selftest.stubborn": "engine.jobs.selftest:stubborn",
    "selftest.offline": "engine.netprobe:offline_probe_job",
}


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
    if kind not in JOB_KINDS:
        raise UnknownJobKind(f"Unknown job kind '{kind}'. Known: {', '.join(sorted(JOB_KINDS))}")
    module, _, name = JOB_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)
