"""Resumable checkpoints: trainable weights, optimizer, scheduler, RNG states, data position.

A checkpoint is a folder ``step-000120`` under the run's checkpoint folder, written under a
temporary name and renamed into place (:func:`engine.fsutil.write_folder_atomically`); it
counts only when its ``state.json`` (written last) is present. Resume takes the newest
complete one. Weights are safetensors; optimizer and scheduler states are loaded with
``torch.load(weights_only=True)``, which refuses anything but tensors and plain values.

Only heavy code paths import this module (it imports torch at the top).
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.fsutil import write_folder_atomically

STATE_FILE = "state.json"
WEIGHTS_FILE = "trainable.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
SCHEDULER_FILE = "scheduler.pt"
PREFIX = "step-"


@dataclass
class LoopState:
    """Where a run stands: steps done, losses, evaluation and early-stopping book-keeping."""

    step: int = 0
    tokens: int = 0
    seconds: float = 0.0
    losses: list = field(default_factory=list)
    eval_losses: list = field(default_factory=list)
    best_eval: float | None = None
    best_step: int = 0
    evals_without_gain: int = 0


def rng_states() -> dict[str, Any]:
    """Python, NumPy and torch RNG states as JSON-able values."""
    import numpy

    kind, keys, position, has_gauss, gauss = numpy.random.get_state()
    states = {"python": _listify(random.getstate()),
              "numpy": [kind, keys.tolist(), position, has_gauss, gauss],
              "torch": torch.get_rng_state().tolist()}
    if torch.cuda.is_available():
        states["cuda"] = [state.tolist() for state in torch.cuda.get_rng_state_all()]
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    """Put back the RNG states saved by :func:`rng_states`."""
    import numpy

    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, position, has_gauss, gauss = states["numpy"]
    numpy.random.set_state((kind, numpy.array(keys, dtype=numpy.uint32), position, has_gauss,
                            gauss))
    torch.set_rng_state(torch.tensor(states["torch"], dtype=torch.uint8))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in states["cuda"]])


def _listify(value: Any) -> Any:
    return [_listify(item) for item in value] if isinstance(value, (tuple, list)) else value


def trainable_state(model: Any) -> dict[str, Any]:
    """The trainable parameters by name (LoRA weights, or every weight in full tuning)."""
    return {name: param.detach().to("cpu").contiguous()
            for name, param in model.named_parameters() if param.requires_grad}


def save(folder: Path, model: Any, optimizer: Any, scheduler: Any, state: LoopState,
         keep: int, weights: dict[str, Any] | None = None,
         optimizer_state: dict[str, Any] | None = None) -> Path:
    """Write the checkpoint of ``state.step`` atomically; keep the ``keep`` newest ones.

    ``weights`` (trainable tensors by name) and ``optimizer_state`` replace the model's and
    optimizer's own, e.g. when they were gathered from the shards of several processes.

    Returns:
        The checkpoint folder.
    """
    from safetensors.torch import save_file

    def write(temporary: Path) -> None:
        save_file(weights if weights is not None else trainable_state(model),
                  str(temporary / WEIGHTS_FILE))
        torch.save(optimizer_state if optimizer_state is not None else optimizer.state_dict(),
                   temporary / OPTIMIZER_FILE)
        torch.save(scheduler.state_dict(), temporary / SCHEDULER_FILE)
        payload = {"loop": state.__dict__, "rng": rng_states()}
        (temporary / STATE_FILE).write_text(json.dumps(payload))

    target = write_folder_atomically(Path(folder) / f"{PREFIX}{state.step:07d}", write,
                                     replace=True)
    for old in complete(folder)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def complete(folder: Path) -> list[Path]:
    """The complete checkpoints under ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [path for path in folder.iterdir() if path.name.startswith(PREFIX)
             and path.is_dir() and (path / STATE_FILE).is_file()]
    return sorted(found, key=lambda path: path.name)


def newest(folder: Path) -> Path | None:
    """The newest complete checkpoint, or None."""
    found = complete(folder)
    return found[-1] if found else None


def load(checkpoint: Path, model: Any, optimizer: Any, scheduler: Any,
         restore: Any = None) -> LoopState:
    """Restore weights, optimizer, scheduler and RNG states; returns the loop state.

    ``restore(weights, optimizer_state)`` puts weights and optimizer state back instead of
    the plain copy (e.g. into the shards of several processes).

    Raises:
        ValueError: when the checkpoint's weights do not match the model's trainable ones.
    """
    from safetensors.torch import load_file

    weights = load_file(str(checkpoint / WEIGHTS_FILE))
    expected = {name for name, p in model.named_parameters() if p.requires_grad}
    if set(weights) != expected:
        raise ValueError(f"{checkpoint}: its weights do not match this model and method "
                         f"({len(weights)} saved, {len(expected)} trainable tensors)")
    optimizer_state = torch.load(checkpoint / OPTIMIZER_FILE, weights_only=True)
    if restore is not None:
        restore(weights, optimizer_state)
    else:
        parameters = dict(model.named_parameters())
        with torch.no_grad():
            for name, tensor in weights.items():
                parameters[name].copy_(tensor.to(parameters[name].device))
        optimizer.load_state_dict(optimizer_state)
    scheduler.load_state_dict(torch.load(checkpoint / SCHEDULER_FILE, weights_only=True))
    payload = json.loads((checkpoint / STATE_FILE).read_text())
    restore_rng_states(payload["rng"])
    return LoopState(**payload["loop"])
