"""Peak memory of a measured variant: the meter sees a known allocation, stops its thread on
any exit, and every comparison row (causal and classifier) carries ``peak_mb``."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.cli.compress import format_comparison
from engine.compress.classifier_runs import format_classifier_comparison, measure_classifier
from engine.compress.measure import measure_variant
from engine.compress.peak_memory import PeakMemory
from engine.progress import Cancelled

ALLOCATED_MB = 200


def _sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "peak-memory" and t.is_alive()]


def _wait_until_seen(meter: PeakMemory, mb: float, timeout_s: float = 10.0) -> None:
    """Wait for the sampling thread (not the main thread) to record ``mb``."""
    deadline = time.monotonic() + timeout_s
    while meter.rss_seen_mb < mb and time.monotonic() < deadline:
        time.sleep(0.01)


def test_meter_sees_an_allocation_freed_before_exit():
    with PeakMemory() as meter:
        block = np.ones(ALLOCATED_MB * 1024 * 1024 // 8)  # written, so resident
        _wait_until_seen(meter, 0.75 * ALLOCATED_MB)
        del block
    assert meter.rss_peak_mb >= 0.75 * ALLOCATED_MB
    assert meter.peak_mb() == meter.rss_peak_mb
    assert not _sampler_threads()


def test_meter_reports_little_when_nothing_is_allocated():
    with PeakMemory() as meter:
        sum(range(1000))
    assert 0.0 <= meter.rss_peak_mb < 20
    assert not _sampler_threads()


@pytest.mark.parametrize("error", [Cancelled, ValueError])
def test_sampling_thread_stops_when_the_block_raises(error):
    meter = PeakMemory()
    with pytest.raises(error):
        with meter:
            assert len(_sampler_threads()) == 1
            raise error("stop")
    assert not _sampler_threads() and meter.rss_peak_mb >= 0.0


def test_measured_causal_rows_carry_peak_memory(tiny_llama, records):
    row = measure_variant("fp32", tiny_llama, records[:2], max_length=32)
    assert row.peak_mb is not None and row.peak_mb >= 0  # may fit in memory freed earlier
    assert row.to_dict()["peak_mb"] == row.peak_mb and row.memory_mb > 0
    assert not _sampler_threads()


def _tiny_bert():
    name = "enclave_tests_tiny_bert"
    if name not in sys.modules:
        path = Path(__file__).with_name("tiny_bert.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_measured_classifier_rows_carry_peak_memory(tmp_path):
    helper = _tiny_bert()
    clauses = helper.clause_records(12)
    labels = tuple(sorted({r["label"] for r in clauses}))
    folder = helper.build_tiny_bert(tmp_path / "clf", clauses, layers=2, labels=labels)
    row = measure_classifier("tuned fp32", folder, clauses[:6], clauses[:6], max_length=32)
    # A tiny model may fit in memory the process freed earlier (the whole suite runs in one
    # process), so its resident peak can be 0; the row must carry a measured figure.
    assert isinstance(row["peak_mb"], float) and row["peak_mb"] >= 0 and row["memory_mb"] > 0
    assert "peak MB" in format_classifier_comparison([row])


def test_text_tables_show_a_dash_for_rows_without_peak_memory():
    old = {"name": "8-bit", "size_mb": 1.0, "memory_mb": 2.0, "load_s": 0.1,
           "tokens_per_s": 5.0, "ppl": None}
    new = {**old, "name": "4-bit", "peak_mb": 12.5}
    lines = format_comparison([old, new]).splitlines()
    assert lines[0].split()[:6] == ["variant", "size", "MB", "weights", "MB", "peak"]
    assert lines[2].split()[3] == "-" and lines[3].split()[3] == "12.5"
    classifier = {"name": "tuned fp32", "layers": 4, "size_mb": 1.0, "memory_mb": 2.0,
                  "load_s": 0.1, "samples_per_s": 9.0, "accuracy": 1.0, "macro_f1": 1.0}
    row = format_classifier_comparison([classifier]).splitlines()[2].split()
    assert row[5] == "-"


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_meter_reads_cuda_peak_on_a_gpu():
    import torch

    with PeakMemory() as meter:
        block = torch.ones(ALLOCATED_MB * 1024 * 1024 // 4, device="cuda")
        del block
    assert meter.cuda_peak_mb is not None and meter.cuda_peak_mb >= 0.95 * ALLOCATED_MB
    assert meter.peak_mb(on_cuda=True) == meter.cuda_peak_mb
