"""Training on several processes: GPUs of one workstation, or machines of a small cluster.

A :class:`LaunchPlan` says how many processes each machine runs, how they share the model
(DDP, or FSDP for full tuning of models that do not fit one GPU) and, for a cluster, how many
machines there are, which one this is and where the main one listens. :func:`run_launched`
writes the run's spec (:mod:`engine.train.worker`), starts the maintained launcher as a child
(``accelerate launch --config_file`` on GPUs, with the config of
:mod:`engine.train.multi_gpu`; ``torchrun`` on CPUs, where accelerate's own launcher starts a
single process) and follows it: rank 0's events are handed to the reporter, a cancel request
becomes the spec's ``cancel`` file that every rank checks at each step, and the outcome comes
back from the spec's ``result`` file.

Both launchers run through ``python -m engine.train.launch accelerate|torchrun ARGS`` so that a
job process (whose network and program walls allow Enclave's own modules only) may start
them; the launched workers are ``python -m engine.train.worker SPEC`` as well.

On a cluster every machine sees the run folder at the same path (a shared file system) and
each machine other than rank 0 runs ``enclave train-join SPEC --machine-rank K --allow-cluster
ADDRESSES``; the job on machine 0 prints the command. A cluster plan must name the machines'
private addresses (``allow_cluster``): the job's network walls then admit exactly those
(:mod:`engine.netwall_cluster`), gloo and NCCL are pinned to the interface holding this
machine's address, and the run stops when any of its processes holds a connection to any
other address (:mod:`engine.train.cluster`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import engine  # noqa: F401  (offline switches before any model library)
from engine import netwall, netwall_cluster
from engine.progress import Cancelled, Reporter
from engine.train import cluster
from engine.train.multi_gpu import STRATEGIES, write_accelerate_config
from engine.train.worker import write_spec

PLAN_FILE = "plan.json"
CANCEL_GRACE_S = 60.0
POLL_S = 0.2


@dataclass
class LaunchPlan:
    """Where a training run's processes run. One process on one machine is a plain run."""

    processes: int = field(default=1, metadata={
        "help": "Processes on this machine: one per GPU (2+ trains on several GPUs at once)."})
    strategy: str = field(default="ddp", metadata={
        "help": "ddp: every GPU holds the whole model (LoRA, QLoRA, full); fsdp: weights "
                "sharded across GPUs, for full tuning of a model too big for one.",
        "choices": STRATEGIES})
    machines: int = field(default=1, metadata={"help": "Machines in the cluster (1: this one)."})
    machine_rank: int = field(default=0, metadata={
        "help": "This machine's rank in the cluster; 0 is the main machine."})
    main_address: str = field(default="", metadata={
        "help": "Address of machine 0 on the cluster network (several machines only)."})
    main_port: int = field(default=0, metadata={
        "help": "Port machine 0 listens on; 0 picks a free one on a single machine."})
    config_file: str = field(default="", metadata={
        "help": "An accelerate config (enclave train-accelerate-config); empty: one is "
                "written into the run folder from these fields."})
    allow_cluster: list[str] = field(default_factory=list, metadata={
        "help": "Private addresses of every machine of a cluster run (machine 0 first); the "
                "only addresses its network walls admit besides loopback."})
    precision: str = field(default="no", metadata={
        "help": "accelerate's mixed precision in the written config; the recipe's precision "
                "governs autocast inside Enclave's loop."})

    def __post_init__(self) -> None:
        for name in ("processes", "machines"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be ddp or fsdp, got {self.strategy!r}")
        if not isinstance(self.machine_rank, int) or not 0 <= self.machine_rank < self.machines:
            raise ValueError(f"machine_rank must be in 0..{self.machines - 1}, "
                             f"got {self.machine_rank!r}")
        if self.machines > 1 and (not self.main_address or not self.main_port):
            raise ValueError("a run on several machines needs main_address and main_port "
                             "(where machine 0 listens on the cluster network)")
        self.allow_cluster = list(netwall_cluster.check_plan_opening(
            self.machines, self.main_address, self.allow_cluster))

    @property
    def world(self) -> int:
        """All processes of the run, over every machine."""
        return self.processes * self.machines

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> "LaunchPlan":
        """A plan from stored or typed values (unknown keys refused by name).

        Raises:
            ValueError: naming the field at fault.
        """
        values = dict(values or {})
        unknown = sorted(set(values) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"launch: unknown field(s) {', '.join(unknown)}")
        return cls(**values)


def check_plan(plan: LaunchPlan, method: str) -> None:
    """Refuse plans the loop cannot run: FSDP shards full tuning only.

    Raises:
        ValueError: naming the field.
    """
    if plan.strategy == "fsdp" and method != "full":
        raise ValueError(f"strategy fsdp shards the weights of full tuning; method {method!r} "
                         "trains small adapters, use strategy ddp")
    if plan.machines > 1 and not plan.allow_cluster:
        raise ValueError("a run on several machines must name them with allow_cluster (their "
                         "private addresses): the network walls open to those addresses only")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def launch_command(plan: LaunchPlan, spec: Path, *, gpu: bool | None = None,
                   config_file: Path | None = None) -> list[str]:
    """The command that starts this machine's processes of the run in ``spec``.

    On GPUs: ``accelerate launch`` with the plan's config file (written beside the spec when
    the plan names none); on CPUs: ``torchrun`` with the gloo backend.
    """
    gpu = _cuda_available() if gpu is None else gpu
    address = plan.main_address or "127.0.0.1"
    worker = ["-m", "engine.train.worker", str(spec)]
    base = [sys.executable, "-m", "engine.train.launch"]
    if not gpu:
        where = ["--standalone"] if plan.machines == 1 and not plan.main_port else [
            f"--nnodes={plan.machines}", f"--node-rank={plan.machine_rank}",
            f"--master-addr={address}", f"--master-port={plan.main_port}"]
        return [*base, "torchrun", f"--nproc-per-node={plan.processes}", *where, *worker]
    port = str(plan.main_port or free_port())
    config = Path(plan.config_file) if plan.config_file else config_file or \
        spec.with_name(f"accelerate-machine{plan.machine_rank}.yaml")
    if not plan.config_file:
        write_accelerate_config(config, plan.processes, plan.strategy, plan.precision,
                                machines=plan.machines, machine_rank=plan.machine_rank,
                                main_address=address, main_port=int(port))
    return [*base, "accelerate", "--config_file", str(config),
            "--num_processes", str(plan.world), "--num_machines", str(plan.machines),
            "--machine_rank", str(plan.machine_rank), "--main_process_ip", address,
            "--main_process_port", port, *worker]


def _forward_events(path: Path, offset: int, reporter: Reporter) -> int:
    """Hand the events appended to ``path`` since ``offset`` to the reporter."""
    if not path.is_file():
        return offset
    with open(path, encoding="utf-8") as handle:
        handle.seek(offset)
        while True:
            line = handle.readline()
            if not line.endswith("\n"):
                return offset
            offset += len(line.encode("utf-8"))
            event = json.loads(line)
            reporter.report(event["step"], event["total"], event["message"],
                            event.get("stage") or None, **event.get("metrics", {}))


def _stop(process: subprocess.Popen, grace: float) -> None:
    """Wait up to ``grace`` seconds for the processes to end, then end the whole group."""
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def follow(command: list[str], spec_file: Path, reporter: Reporter, log_file: Path,
           env: dict[str, str] | None = None,
           watch: cluster.ConnectionWatch | None = None) -> dict[str, Any]:
    """Run the launcher, forward rank 0's events, pass on a cancel, return the outcome.

    Raises:
        Cancelled: when the reporter's stop flag was raised (the run's checkpoints stay).
        RuntimeError: when the run failed; the message is rank 0's error or the end of the
            launcher's log; or when ``watch`` found a connection outside the cluster.
    """
    spec = json.loads(Path(spec_file).read_text())
    events, result = Path(spec["events"]), Path(spec["result"])
    offset = 0
    watch = watch or cluster.ConnectionWatch(())
    with open(log_file, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=env)
        try:
            while process.poll() is None:
                offset = _forward_events(events, offset, reporter)
                try:
                    reporter.check_cancel()
                except Cancelled:
                    Path(spec["cancel"]).touch()
                    _stop(process, CANCEL_GRACE_S)
                    raise
                _check_connections(watch, process)
                time.sleep(POLL_S)
        finally:
            if process.poll() is None:
                _stop(process, 0)
    _forward_events(events, offset, reporter)
    return _outcome(result, process.returncode, log_file)


def _check_connections(watch: cluster.ConnectionWatch, process: subprocess.Popen) -> None:
    """End the run's processes when one holds a connection outside the cluster.

    Raises:
        RuntimeError: naming the process and the peer.
    """
    breach = watch.breach(process.pid)
    if breach:
        _stop(process, 0)
        raise RuntimeError(breach)


def _outcome(result: Path, code: int, log_file: Path) -> dict[str, Any]:
    outcome = json.loads(result.read_text()) if result.is_file() else {}
    if outcome.get("cancelled"):
        raise Cancelled("train cancelled")
    if "result" in outcome and code == 0:
        return outcome["result"]
    if outcome.get("error"):
        raise RuntimeError(f"training failed on rank 0: {outcome['error']}")
    tail = log_file.read_text(errors="replace").strip().splitlines()[-8:]
    raise RuntimeError(f"training processes ended with exit code {code} (log {log_file}):\n"
                       + "\n".join(tail))


def run_launched(plan: LaunchPlan, base: Path, records: list[dict], recipe: Any,
                 out_dir: Path, checkpoint_dir: Path, reporter: Reporter,
                 eval_records: list[dict] | None = None) -> dict[str, Any]:
    """Train on this machine's processes of ``plan``; the outcome of rank 0's loop.

    Returns:
        The fields of :class:`engine.train.loop.TrainResult` as plain values.

    Raises:
        ValueError: for a plan the method cannot use.
        Cancelled: on a cancel request; RuntimeError: when a process failed.
    """

    check_plan(plan, recipe.method)
    folder = Path(checkpoint_dir).parent / "launch"
    spec = write_spec(folder, base=base, records=records, eval_records=eval_records,
                      recipe=recipe.to_dict(), out_dir=out_dir, checkpoint_dir=checkpoint_dir)
    (folder / PLAN_FILE).write_text(json.dumps(plan.to_dict(), indent=2))
    command = launch_command(plan, spec)
    env = None
    if plan.machines > 1:
        env = cluster.environment(plan.allow_cluster)
        reporter.report(0, 0, cluster.opening_message(plan.allow_cluster), stage="train")
        reporter.report(0, 0, f"waiting for {plan.machines - 1} more machine(s): on each, run "
                        f"enclave train-join {spec} --machine-rank K --allow-cluster "
                        f"{','.join(plan.allow_cluster)}", stage="train")
    return follow(command, spec, reporter, folder / "launcher.log", env,
                  cluster.ConnectionWatch(plan.allow_cluster))


def join_plan(spec: Path, machine_rank: int, allow_cluster: str | list[str]) -> LaunchPlan:
    """The plan of machine ``machine_rank``'s share of the cluster run in ``spec``.

    Raises:
        ValueError: when the spec's folder holds no plan, the rank is out of range, or
            ``allow_cluster`` does not name exactly the machines that machine 0 named.
    """
    import dataclasses

    saved = Path(spec).resolve().with_name(PLAN_FILE)
    if not saved.is_file():
        raise ValueError(f"{saved} is missing: start the run on machine 0 first "
                         "(enclave train ... --machines N)")
    if machine_rank == 0:
        raise ValueError("machine 0 runs the training job itself; join with rank 1 or more")
    plan = dataclasses.replace(LaunchPlan.from_dict(json.loads(saved.read_text())),
                               machine_rank=machine_rank)
    named = netwall_cluster.parse_addresses(allow_cluster)
    if set(named) != set(plan.allow_cluster):
        raise ValueError(f"--allow-cluster must name exactly the run's machines "
                         f"({', '.join(plan.allow_cluster)}); given: "
                         f"{', '.join(named) or 'nothing'}")
    return plan


def join(spec: Path, plan: LaunchPlan) -> int:
    """Run this machine's processes of a cluster run started on machine 0 (see join_plan).

    The run folder (spec, records, plan) must be visible at the same path on this machine.
    The launcher and the workers raise the audit wall, opened to the plan's machines only,
    and the run is stopped when one of them connects elsewhere. Only rank 0 reports and
    writes; this returns the launcher's exit code.

    Raises:
        ValueError: when this machine holds none of the plan's addresses.
        RuntimeError: when a process connected outside the cluster.
    """
    env = {**cluster.environment(plan.allow_cluster), netwall.JOB_ENV: "1"}
    watch = cluster.ConnectionWatch(plan.allow_cluster)
    process = subprocess.Popen(launch_command(plan, Path(spec).resolve()), env=env,
                               start_new_session=True)
    try:
        with cluster.sigterm_as_exit():
            while process.poll() is None:
                _check_connections(watch, process)
                time.sleep(POLL_S)
    finally:
        if process.poll() is None:
            _stop(process, 0)
    return process.returncode


def main(argv: list[str] | None = None) -> None:
    """``python -m engine.train.launch torchrun|accelerate ARGS``: the maintained launchers."""

    args = list(sys.argv[1:] if argv is None else argv)
    which, rest = args[0], args[1:]
    if which == "torchrun":
        from torch.distributed.run import main as torchrun

        torchrun(rest)
    elif which == "accelerate":
        from accelerate.commands.launch import launch_command as accelerate_launch
        from accelerate.commands.launch import launch_command_parser

        accelerate_launch(launch_command_parser().parse_args(rest))
    else:
        raise SystemExit(f"unknown launcher {which!r} (torchrun or accelerate)")


if __name__ == "__main__":
    main()
