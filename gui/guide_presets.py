"""Presets (Quick / Balanced / Thorough) and time estimates of the guided path.

Plain Python, no Qt: a preset turns the data size and the device into recipe fields of the
cleaning, selection, training and evaluation recipes; an estimate turns a step's amount of
work into seconds with the rate measured on this machine (from the project's past jobs)
or, when none was measured, a rough documented rate.

Rough rates (:data:`ROUGH_RATES`), seconds per unit of work, measured on the reference
workstation of ARCHITECTURE.md (2 CPU cores) and on one GPU:

- import: ~2,000 records/s; cleaning (MinHash near duplicates, redaction): ~400 records/s;
- choosing examples: the MiniLM encoder embeds ~100 sentences/s on 2 cores;
- training SmolLM2-135M with LoRA: ~4 s per step of 4 × 256 tokens on 2 cores, ~0.15 s
  on a GPU;
- checking the model: ~3 s per answer generated on 2 cores (base and tuned: two answers
  per item), ~0.3 s on a GPU;
- export: ~20 s (merging the adapter and writing safetensors).
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

PRESETS = ("Quick", "Balanced", "Thorough")
DEFAULT_PRESET = "Balanced"

PRESET_WORDS = {
    "Quick": "A first try in a few minutes: fewer examples, one short pass.",
    "Balanced": "The recommended choice: a good model in a reasonable time.",
    "Thorough": "More examples and more passes: best results, takes longest.",
}

ROUGH_RATES = {  # seconds per unit of work, by step and device kind
    "import": {"cpu": 1 / 2000, "gpu": 1 / 2000},
    "clean": {"cpu": 1 / 400, "gpu": 1 / 400},
    "select": {"cpu": 1 / 100, "gpu": 1 / 1500},
    "train": {"cpu": 4.0, "gpu": 0.15},
    "evaluate": {"cpu": 6.0, "gpu": 0.6},
    "export": {"cpu": 20.0, "gpu": 10.0},
}
STARTUP_S = {"import": 3, "clean": 8, "select": 10, "train": 20, "evaluate": 20, "export": 0}


@dataclass(frozen=True)
class Plan:
    """What a preset does with this project's data on this device.

    Attributes:
        clean: cleaning recipe fields.
        select: selection recipe fields.
        train: training recipe fields.
        evaluate_items: how many test items the check generates answers for.
        chosen: how many examples the selection keeps.
        steps: training steps that follow from ``chosen`` and the training fields.
    """

    clean: dict
    select: dict
    train: dict
    evaluate_items: int
    chosen: int
    steps: int


def plan(preset: str, records: int, device_kind: str = "cpu") -> Plan:
    """The recipe fields of ``preset`` for ``records`` examples on ``device_kind``.

    Raises:
        ValueError: for an unknown preset.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    gpu = device_kind in ("cuda", "mps", "gpu")
    share = {"Quick": 0.1, "Balanced": 0.25, "Thorough": 0.5}[preset]
    floor, ceiling = {"Quick": (16, 200), "Balanced": (32, 1000),
                      "Thorough": (64, 5000)}[preset]
    chosen = min(records, max(floor, min(ceiling, round(records * share)))) if records else 0
    epochs = {"Quick": 1, "Balanced": 2, "Thorough": 3}[preset]
    batch = 8 if gpu else 4
    max_length = {"Quick": 128, "Balanced": 256, "Thorough": 512}[preset]
    cap = {"Quick": 30, "Balanced": 150, "Thorough": 0}[preset] * (4 if gpu else 1)
    steps = max(1, -(-chosen // batch) * epochs) if chosen else 0
    if cap and steps > cap:
        steps = cap
    train = {"method": "lora", "epochs": epochs, "batch_size": batch, "max_length": max_length,
             "max_steps": steps if cap and steps == cap else 0,
             "rank": {"Quick": 8, "Balanced": 8, "Thorough": 16}[preset],
             "eval_fraction": 0.0 if preset == "Quick" else 0.1}
    clean = {"near_dedup": preset != "Quick", "exact_dedup": True, "redaction": "placeholder",
             "length_filter": True}
    select = {"method": "auto", "budget": str(chosen) if chosen else "10%"}
    items = {"Quick": 8, "Balanced": 24, "Thorough": 64}[preset]
    return Plan(clean, select, train, items, chosen, steps)


def work(step: str, records: int, the_plan: Plan) -> float:
    """Units of work of a step: records for import and cleaning, examples embedded for
    choosing, steps for training, answers for checking, one for export."""
    return {"import": records, "clean": records, "select": records,
            "train": the_plan.steps, "evaluate": the_plan.evaluate_items,
            "export": 1}[step]


def estimate_seconds(step: str, units: float, device_kind: str = "cpu",
                     measured: dict[str, float] | None = None) -> tuple[float, bool]:
    """Seconds a step takes and whether the rate was measured on this machine.

    Args:
        step: ``import``, ``clean``, ``select``, ``train``, ``evaluate`` or ``export``.
        units: the amount of work (see :func:`work`).
        device_kind: ``cpu``, ``cuda`` or ``mps``.
        measured: seconds per unit measured from past jobs, by step.
    """
    rate = (measured or {}).get(step)
    gpu = "gpu" if device_kind in ("cuda", "mps", "gpu") else "cpu"
    seconds = STARTUP_S[step] + units * (rate if rate else ROUGH_RATES[step][gpu])
    return seconds, bool(rate)


def duration_words(seconds: float) -> str:
    """``"under a minute"``, ``"about 4 minutes"``, ``"about 1.5 hours"``."""
    if seconds < 60:
        return "under a minute"
    if seconds < 90 * 60:
        minutes = round(seconds / 60)
        return f"about {minutes} minute{'s' * (minutes != 1)}"
    return f"about {seconds / 3600:.1f} hours"


def device_kind() -> str:
    """``cuda``, ``mps`` or ``cpu``, without importing torch on the main thread: torch's own
    answer when it is loaded already, else what the system shows (an NVIDIA device file,
    Apple silicon)."""
    if "torch" in sys.modules:
        from engine.models.device import detect

        return detect().kind
    if Path("/dev/nvidiactl").exists() or Path("/dev/nvidia0").exists():
        return "cuda"
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return "mps"
    return "cpu"


def device_words(kind: str | None = None) -> str:
    """The device in words: ``"NVIDIA GPU"``, ``"Apple GPU"`` or ``"CPU (8 cores)"``."""
    kind = kind or device_kind()
    if kind == "cuda":
        return "NVIDIA GPU"
    if kind == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({os.cpu_count() or 1} cores, no GPU found)"
