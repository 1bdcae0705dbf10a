"""Peak memory that a block of work adds, for the variant comparison table.

On the CPU a background thread samples the process's resident memory (RSS) every few
milliseconds from entry to exit; the figure is the highest sample minus the RSS at
entry. On a CUDA GPU, ``torch.cuda.max_memory_allocated`` is exact: its peak statistics
are reset at entry and the figure is the peak minus what was allocated at entry.

Example::

    with PeakMemory() as meter:
        model = load(...)
        generate(model)
    meter.peak_mb(on_cuda=model_on_cuda(model))
"""

from __future__ import annotations

import ctypes
import gc
import sys
import threading
from types import TracebackType
from typing import Any

import psutil

MB = 1024 * 1024
MEMORY_NOTE = ("Weights MB: memory of the loaded weights. Peak MB: peak memory that loading "
               "and measuring the variant added (RAM on the CPU, GPU memory on CUDA), "
               "measured in one run on the same inputs.")
SAMPLE_INTERVAL_S = 0.005


def release_free_memory() -> None:
    """Collect garbage and hand freed heap memory back to the system (glibc only), so
    that a baseline taken next is not inflated by memory an earlier model left free."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # another C library (musl): nothing to trim
            pass


def model_on_cuda(model: Any) -> bool:
    """Whether a torch model's first parameter lives on a CUDA device."""
    parameter = next(iter(model.parameters()), None)
    return parameter is not None and parameter.device.type == "cuda"


def _cuda_torch() -> Any:
    """The torch module when a CUDA device can be used, else None (torch not imported
    for nothing: the CPU path needs only psutil)."""
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


class PeakMemory:
    """Context manager measuring the peak memory its block adds, in MB.

    Args:
        interval_s: seconds between two RSS samples.

    Attributes:
        rss_peak_mb: highest RSS seen minus RSS at entry (set on exit).
        cuda_peak_mb: peak CUDA memory allocated minus allocated at entry, or None
            without a CUDA device (set on exit).
    """

    def __init__(self, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.rss_peak_mb = 0.0
        self.cuda_peak_mb: float | None = None
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._torch: Any = None
        self._rss_start = self._rss_max = 0
        self._cuda_start = 0

    def __enter__(self) -> "PeakMemory":
        self._torch = _cuda_torch()
        release_free_memory()
        if self._torch is not None:
            self._torch.cuda.synchronize()
            self._torch.cuda.reset_peak_memory_stats()
            self._cuda_start = self._torch.cuda.memory_allocated()
        self._rss_start = self._rss_max = self._process.memory_info().rss
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._take_sample()

    def _take_sample(self) -> None:
        try:
            rss = self._process.memory_info().rss
        except psutil.Error:  # the process is going away
            return
        if rss > self._rss_max:
            self._rss_max = rss

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._take_sample()
        self.rss_peak_mb = round((self._rss_max - self._rss_start) / MB, 1)
        if self._torch is not None:
            self._torch.cuda.synchronize()
            peak = self._torch.cuda.max_memory_allocated() - self._cuda_start
            self.cuda_peak_mb = round(max(peak, 0) / MB, 1)

    @property
    def rss_seen_mb(self) -> float:
        """Highest RSS sampled so far minus RSS at entry (readable inside the block)."""
        return (self._rss_max - self._rss_start) / MB

    def peak_mb(self, on_cuda: bool = False) -> float:
        """The block's peak: GPU memory when the work ran on CUDA, else process RSS.

        Args:
            on_cuda: whether the measured model ran on a CUDA device.

        Returns:
            Peak added memory in MB (0 or more).
        """
        if on_cuda and self.cuda_peak_mb is not None:
            return self.cuda_peak_mb
        return self.rss_peak_mb
