"""Launch configuration for training on several GPUs of one workstation through accelerate.

``enclave train-accelerate-config FILE --gpus N --strategy ddp|fsdp`` writes an accelerate
config (YAML). DDP copies the model to every GPU and splits the batches; FSDP shards weights,
gradients and optimizer states across GPUs for models that do not fit one card. The file is
used with ``accelerate launch --config_file FILE SCRIPT``; Enclave's own loop runs on one
device, so the script is a Trainer-based one for now.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STRATEGIES = ("ddp", "fsdp")
PRECISIONS = ("no", "bf16", "fp16")


def accelerate_config(gpus: int, strategy: str = "ddp", precision: str = "bf16",
                      layer_class: str = "") -> dict[str, Any]:
    """The accelerate config for ``gpus`` GPUs on one machine.

    Args:
        gpus: number of GPUs (2 or more).
        strategy: ``ddp`` or ``fsdp``.
        precision: mixed precision: ``no``, ``bf16`` or ``fp16``.
        layer_class: FSDP wraps each decoder layer of this class (e.g. LlamaDecoderLayer);
            empty lets accelerate use the model's ``_no_split_modules``.

    Raises:
        ValueError: for fewer than 2 GPUs or an unknown strategy or precision.
    """
    if not isinstance(gpus, int) or gpus < 2:
        raise ValueError(f"gpus must be 2 or more for a multi-GPU launch, got {gpus!r}")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be ddp or fsdp, got {strategy!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE", "debug": False,
        "distributed_type": "MULTI_GPU" if strategy == "ddp" else "FSDP",
        "downcast_bf16": "no", "machine_rank": 0, "main_training_function": "main",
        "mixed_precision": precision, "num_machines": 1, "num_processes": gpus,
        "rdzv_backend": "static", "same_network": True, "use_cpu": False,
        "gpu_ids": "all"}
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
                            precision: str = "bf16", layer_class: str = "") -> Path:
    """Write :func:`accelerate_config` as YAML to ``path``; returns the path."""
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(accelerate_config(gpus, strategy, precision, layer_class),
                          sort_keys=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path
