"""One process of a training run: its rank, its device, and the few collective calls the loop
makes when several processes train together.

A run launched by torchrun or ``accelerate launch`` (see :mod:`engine.train.launch`) has
``WORLD_SIZE`` > 1 in its environment; each process then holds an ``accelerate.Accelerator``
that sets up the process group (NCCL on GPUs, gloo on CPUs), wraps the model for DDP (or FSDP
when the launch config asks for it) and gathers full weights for saving. Every rank holds the
whole dataset and takes its share of each optimizer step's micro-batches, so the data order
is the same pure function of the recipe as on one device. Only rank 0 writes files.

A run in one process uses :func:`single`, whose calls do nothing.

Only heavy code paths import this module (it imports torch at the top).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class Ranks:
    """The processes of a run, seen from one of them (``accelerator`` None: one process)."""

    accelerator: Any = None

    @property
    def world(self) -> int:
        return self.accelerator.num_processes if self.accelerator else 1

    @property
    def rank(self) -> int:
        return self.accelerator.process_index if self.accelerator else 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def sharded(self) -> bool:
        """Whether weights are sharded across processes (FSDP)."""
        return self.accelerator is not None and \
            self.accelerator.distributed_type.name == "FSDP"

    def device(self, default: Any) -> Any:
        """This process's device (``default`` for a single process)."""
        return self.accelerator.device if self.accelerator else default

    def wrap(self, model: Any) -> Any:
        """The model wrapped for data parallelism (DDP, or FSDP from the launch config)."""
        if not self.accelerator:
            return model
        return self.accelerator.prepare_model(model)

    def unwrap(self, model: Any) -> Any:
        """The model without its DDP/FSDP wrapper."""
        return self.accelerator.unwrap_model(model) if self.accelerator else model

    def no_sync(self, model: Any, sync: bool) -> Any:
        """A context that skips the gradient all-reduce unless ``sync`` (the last micro-batch)."""
        if not self.accelerator or sync:
            return contextlib.nullcontext()
        return self.accelerator.no_sync(model)

    def sum(self, *values: float) -> list[float]:
        """Each value summed over all processes."""
        if not self.accelerator:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64, device=self.accelerator.device)
        torch.distributed.all_reduce(tensor)
        return tensor.tolist()

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is true on any one (e.g. a cancel request)."""
        return bool(self.sum(1.0 if flag else 0.0)[0]) if self.accelerator else flag

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.accelerator:
            self.accelerator.wait_for_everyone()

    def trainable_state(self, model: Any) -> dict[str, Any]:
        """Full trainable weights by name, on the CPU (a collective call under FSDP)."""
        trainable = {name for name, p in self.unwrap(model).named_parameters()
                     if p.requires_grad}
        if self.sharded:
            state = self.accelerator.get_state_dict(model)
            return {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()
                    if name in trainable}
        return {name: p.detach().to("cpu").contiguous()
                for name, p in self.unwrap(model).named_parameters() if name in trainable}


    def sharded_states(self, model: Any, optimizer: Any) -> tuple[dict, dict]:
        """Full trainable weights and optimizer state of a sharded (FSDP) model, gathered on
        the CPU through ``torch.distributed.checkpoint`` (collective: every rank calls it)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict

        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        weights, optimizer_state = get_state_dict(self.unwrap(model), optimizer, options=options)
        trainable = {name for name, p in self.unwrap(model).named_parameters()
                     if p.requires_grad}
        return {k: v for k, v in weights.items() if k in trainable}, optimizer_state

    def restore_sharded(self, model: Any, optimizer: Any, weights: dict,
                        optimizer_state: dict) -> None:
        """Put full weights and optimizer state back into the shards (collective)."""
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_state_dict

        set_state_dict(self.unwrap(model), optimizer, model_state_dict=weights,
                       optim_state_dict=optimizer_state,
                       options=StateDictOptions(full_state_dict=True, strict=False))

    def full_state(self, model: Any) -> dict[str, Any]:
        """Every weight of the model, gathered onto rank 0 (collective; for FSDP saving)."""
        return self.accelerator.get_state_dict(model) if self.accelerator else \
            self.unwrap(model).state_dict()


def single() -> Ranks:
    """The ranks of a run in one process."""
    return Ranks()


def launched() -> bool:
    """Whether this process was started by a multi-process launcher (WORLD_SIZE > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def from_environment() -> Ranks:
    """The ranks of a launched run: an ``Accelerator`` on this process's device.

    The recipe's precision governs autocast, so accelerate's own mixed precision stays off.
    """
    if not launched():
        return single()
    from accelerate import Accelerator

    return Ranks(Accelerator(cpu=not torch.cuda.is_available(), mixed_precision="no"))
