"""Launch configuration for training on several GPUs (of one or more machines) through
accelerate.

``enclave train-accelerate-config FILE --gpus N --strategy ddp|fsdp`` writes an accelerate
config (YAML). DDP copies the model to every GPU and splits the batches; FSDP shards weights,
gradients and optimizer states across GPUs for models that do not fit one card. A training
job with more than one process writes (or is given) such a file and runs Enclave's own loop
under ``accelerate launch --config_file FILE`` (:mod:`engine.train.launch`). For a small
cluster the file also names the machines, this machine's rank and the main machine's
address and port.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STRATEGIES = ("ddp", "fsdp")
PRECISIONS = ("no", "bf16", "fp16")


def accelerate_config(gpus: int, strategy: str = "ddp", precision: str = "bf16",
                      layer_class: str = "", machines: int = 1, machine_rank: int = 0,
                      main_address: str = "", main_port: int = 29500) -> dict[str, Any]:
    """The accelerate config for ``gpus`` GPUs on each of ``machines`` machines.

    Args:
        gpus: GPUs per machine (2 or more on one machine; 1 or more on several).
        strategy: ``ddp`` or ``fsdp``.
        precision: mixed precision: ``no``, ``bf16`` or ``fp16``.
        layer_class: FSDP wraps each decoder layer of this class (e.g. LlamaDecoderLayer);
            empty lets accelerate use the model's ``_no_split_modules``.
        machines: machines in the cluster (1: this workstation alone).
        machine_rank: this machine's rank, 0 for the main machine.
        main_address: the main machine's address on the cluster network (several machines).
        main_port: the port the main machine listens on for the others.

    Raises:
        ValueError: for too few GPUs, an unknown strategy or precision, or a cluster
            without a main address or with a machine rank out of range.
    """
    if not isinstance(machines, int) or machines < 1:
        raise ValueError(f"machines must be 1 or more, got {machines!r}")
    least = 2 if machines == 1 else 1
    if not isinstance(gpus, int) or isinstance(gpus, bool) or gpus < least:
        raise ValueError(f"gpus must be {least} or more for a multi-GPU launch, got {gpus!r}")
    if not isinstance(machine_rank, int) or not 0 <= machine_rank < machines:
        raise ValueError(f"machine_rank must be in 0..{machines - 1}, got {machine_rank!r}")
    if machines > 1 and not main_address:
        raise ValueError("a launch on several machines needs main_address (the address of "
                         "machine rank 0 on the cluster network)")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be ddp or fsdp, got {strategy!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE", "debug": False,
        "distributed_type": "MULTI_GPU" if strategy == "ddp" else "FSDP",
        "downcast_bf16": "no", "machine_rank": machine_rank,
        "main_training_function": "main", "mixed_precision": precision,
        "num_machines": machines, "num_processes": gpus * machines,
        "rdzv_backend": "static", "same_network": True, "use_cpu": False,
        "gpu_ids": "all"}
    if machines > 1:
        config.update({"main_process_ip": main_address, "main_process_port": int(main_port)})
    if strategy == "fsdp":
        config["fsdp_config"] = {
            "fsdp_version": 2, "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "fsdp_cpu_ram_efficient_loading": True, "fsdp_offload_params": False,
            "fsdp_reshard_after_forward": True, "fsdp_state_dict_type": "SHARDED_STATE_DICT",
            "fsdp_activation_checkpointing": False}
        if layer_class:
            config["fsdp_config"]["fsdp_transformer_layer_cls_to_wrap"] = layer_class
    return config


def write_accelerate_config(path: Path, gpus: int, strategy: str = "ddp",
                            precision: str = "bf16", layer_class: str = "",
                            **cluster: Any) -> Path:
    """Write :func:`accelerate_config` as YAML to ``path`` (``cluster``: machines,
    machine_rank, main_address, main_port); returns the path."""
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(accelerate_config(gpus, strategy, precision, layer_class, **cluster),
                          sort_keys=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path
