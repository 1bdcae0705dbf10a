"""Fused GPU kernels and fast math for training on CUDA.

* TF32 matrix products (float32 weights on Ampere or newer GPUs multiply ~8× faster at a
  precision that training does not notice).
* Liger Kernel (an optional dependency, ``pip install liger-kernel``): Triton kernels for
  RMSNorm, RoPE and SwiGLU/GeGLU patched into a loaded model of a family Liger supports
  (Llama, Mistral, Qwen2, Gemma, Gemma2, Phi-3 ...). Enclave's loss already projects only the
  positions that carry a loss (:mod:`engine.train.losses`), so the full vocabulary's logits are
  never materialised and Liger's own (fused linear) cross-entropy is left off.

Nothing here runs, or imports liger_kernel, on a CPU or Apple GPU.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

log = logging.getLogger(__name__)

FUSED = {"rope": True, "rms_norm": True, "swiglu": True, "geglu": True,
         "cross_entropy": False, "fused_linear_cross_entropy": False}


def enable_tf32(device: Any) -> bool:
    """Allow TF32 matrix products on a CUDA device; True when it applies."""
    import torch

    if getattr(device, "type", str(device)) != "cuda":
        return False
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    return True


def liger_patch(model_type: str) -> Any:
    """Liger's patch function for ``config.model_type``, or None (not installed, or the
    family is not supported)."""
    try:
        from liger_kernel.transformers.monkey_patch import MODEL_TYPE_TO_APPLY_LIGER_FN
    except ImportError:
        return None
    return MODEL_TYPE_TO_APPLY_LIGER_FN.get(model_type)


def apply_fused_kernels(model: Any, device: Any) -> list[str]:
    """Patch Liger's fused kernels into ``model`` on CUDA; the kernels applied (or none).

    Args:
        model: a loaded transformers model (not yet wrapped by peft).
        device: the training device.
    """
    if getattr(device, "type", str(device)) != "cuda":
        return []
    patch = liger_patch(str(getattr(model.config, "model_type", "")))
    if patch is None:
        log.info("fused kernels: liger-kernel not installed or family %s not supported",
                 getattr(model.config, "model_type", "?"))
        return []
    accepted = inspect.signature(patch).parameters
    options = {name: value for name, value in FUSED.items() if name in accepted}
    patch(model=model, **options)
    return [name for name, value in options.items() if value]
