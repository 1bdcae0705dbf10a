"""Safe loading of causal language models, sequence classifiers and tokenizers from local
folders.

Every load goes through :func:`engine.offline.refuse_remote_code` (local files
only, no remote code) and reads safetensors weights only. The folder is
checked by :func:`engine.models.registry.import_local` first, so a refused
folder fails with a clear message before any weights are read.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from engine.models.registry import check_safe_files, import_local
from engine.offline import refuse_remote_code

Quantize = Literal["8bit", "4bit"]

# bitsandbytes logs these on every forward pass (or once per process) through
# the logging module; they say nothing the user can act on.
_QUIET_LOG_MESSAGES = {
    "bitsandbytes.autograd._functions": "MatMul8bitLt: inputs will be cast",
    "bitsandbytes.backends.cpu.ops": "Failed to load CPU gemm_4bit_forward from kernels",
}


class _DropMessages(logging.Filter):
    """Drops log records whose message starts with a given prefix."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


def silence_quantization_warnings() -> None:
    """Hide the per-forward cast warnings of bitsandbytes so logs stay readable."""
    for logger_name, prefix in _QUIET_LOG_MESSAGES.items():
        logger = logging.getLogger(logger_name)
        if not any(isinstance(f, _DropMessages) for f in logger.filters):
            logger.addFilter(_DropMessages(prefix))


def _torch_dtype(dtype: Any) -> Any:
    import torch

    if dtype is None:
        from engine.models.device import detect

        device = detect()
        return torch.bfloat16 if device.kind == "cuda" and device.bf16 else torch.float32
    if isinstance(dtype, str):
        resolved = getattr(torch, dtype, None)
        if not isinstance(resolved, torch.dtype):
            raise ValueError(f"dtype '{dtype}' is not a torch dtype (e.g. float32, bfloat16)")
        return resolved
    return dtype


def _quantization_config(quantize: Quantize | None, compute_dtype: Any) -> Any:
    if quantize is None:
        return None
    from transformers import BitsAndBytesConfig

    silence_quantization_warnings()
    if quantize == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    if quantize == "4bit":
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                  bnb_4bit_use_double_quant=True,
                                  bnb_4bit_compute_dtype=compute_dtype)
    raise ValueError(f"quantize must be None, '8bit' or '4bit', not {quantize!r}")


def load_causal_lm(folder: str | Path, *, quantize: Quantize | None = None,
                   dtype: Any = None) -> Any:
    """Load a causal language model from a local folder.

    Args:
        folder: a Hugging Face model folder with safetensors weights.
        quantize: ``None`` for full precision, ``"8bit"`` (LLM.int8) or
            ``"4bit"`` (NF4 with double quantization) through bitsandbytes.
        dtype: torch dtype or its name; by default bfloat16 on a CUDA GPU
            that supports it, float32 elsewhere.

    Returns:
        The model in eval mode.

    Raises:
        ModelRefused: if the folder is not a safe, complete model folder.
        ValueError: for an unknown ``quantize`` or ``dtype``.
    """
    from transformers import AutoModelForCausalLM

    return _loaded(AutoModelForCausalLM, folder, quantize, dtype)


# A classifier's head (and BERT-style pooler) stays in full precision: it is small, and a head
# that the checkpoint lacks (a base encoder) would otherwise be an uninitialised int8 layer.
CLASSIFIER_HEADS = ["classifier", "pooler", "head", "score"]


def load_sequence_classifier(folder: str | Path, *, quantize: Quantize | None = None,
                             dtype: Any = None, **labels: Any) -> Any:
    """Load an encoder (BERT, RoBERTa, DeBERTa-v2, ModernBERT…) for sequence classification.

    Args:
        folder: a Hugging Face model folder with safetensors weights.
        quantize: ``None``, ``"8bit"`` (LLM.int8) or ``"4bit"`` (NF4) through bitsandbytes;
            the classification head and pooler stay in full precision.
        dtype: torch dtype or its name (default as for :func:`load_causal_lm`).
        **labels: ``num_labels``, ``id2label``, ``label2id`` for a new head.

    Returns:
        The model in eval mode.

    Raises:
        ModelRefused: if the folder is not a safe, complete model folder.
        ValueError: for an unknown ``quantize`` or ``dtype``.
    """
    from transformers import AutoModelForSequenceClassification

    return _loaded(AutoModelForSequenceClassification, folder, quantize, dtype,
                   skip_modules=CLASSIFIER_HEADS, **labels)


def _loaded(auto_class: Any, folder: str | Path, quantize: Quantize | None, dtype: Any,
            skip_modules: list[str] | None = None, **extra: Any) -> Any:
    """A checked local folder loaded by ``auto_class`` from safetensors, in eval mode."""
    info = import_local(folder)
    torch_dtype = _torch_dtype(dtype)
    kwargs = refuse_remote_code({"use_safetensors": True, "dtype": torch_dtype, **extra})
    quantization = _quantization_config(quantize, torch_dtype)
    if quantization is not None:
        if skip_modules:
            quantization.llm_int8_skip_modules = list(skip_modules)
        kwargs["quantization_config"] = quantization
    model = auto_class.from_pretrained(str(info.folder), **kwargs)
    model.eval()
    return model


def load_tokenizer(folder: str | Path) -> Any:
    """Load the tokenizer of a local model folder; a missing pad token becomes EOS.

    Raises:
        ModelRefused: if a link in the folder leads outside it or a file is not regular.
        OSError: if the folder holds no tokenizer files.
    """
    check_safe_files(folder)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), **refuse_remote_code({}))
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        elif tokenizer.unk_token is not None:
            tokenizer.pad_token = tokenizer.unk_token
    return tokenizer
