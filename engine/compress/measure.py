"""Size, load time, memory, speed and quality of one model variant, measured the same way
for every variant so that they can stand side by side.

Two memory figures: ``memory_mb`` is the loaded weights' footprint; ``peak_mb`` is the
peak memory that loading, generating and scoring the variant added (process RSS on the
CPU, allocated GPU memory on CUDA; see :mod:`engine.compress.peak_memory`)."""

from __future__ import annotations

import gc
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.compress.peak_memory import PeakMemory, model_on_cuda
from engine.compress.sizes import model_footprint
from engine.fsutil import folder_size
from engine.metrics.perplexity import perplexity
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.progress import Reporter, null_reporter

MB = 1024 * 1024
SPEED_PROMPT = "List three things a patient should do after leaving hospital."
NEW_TOKENS = 12
SPEED_REPEATS = 2  # best of: a busy machine slows single runs unevenly


@dataclass
class VariantMeasure:
    """One row of the comparison table (``memory_mb``: weights; ``peak_mb``: peak memory
    added by load + generation + scoring)."""

    name: str
    path: str
    size_mb: float
    load_s: float
    memory_mb: float
    tokens_per_s: float
    ppl: float | None
    sparsity: float | None = None
    peak_mb: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON values."""
        return asdict(self)


def load_variant(path: str | Path, dtype: str = "float32") -> tuple[Any, Any]:
    """Load a model variant and its tokenizer: a model folder (full precision or
    bitsandbytes-quantized, computing in ``dtype``) or a ``.gguf`` file
    (de-quantized to float32)."""

    path = Path(path)
    if path.suffix == ".gguf":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from engine.offline import refuse_remote_code

        kwargs = refuse_remote_code({"gguf_file": path.name})
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), **kwargs)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), **kwargs).eval()
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return model, tokenizer
    return load_causal_lm(path, dtype=dtype), load_tokenizer(path)


def generation_speed(model: Any, tokenizer: Any, new_tokens: int = NEW_TOKENS) -> float:
    """Greedy generation speed in tokens per second: the best of ``SPEED_REPEATS`` runs
    after a 2-token warm-up."""
    import torch

    text = tokenizer.apply_chat_template([{"role": "user", "content": SPEED_PROMPT}],
                                         tokenize=False, add_generation_prompt=True) \
        if tokenizer.chat_template else SPEED_PROMPT
    batch = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    device = model.get_input_embeddings().weight.device
    batch = {k: v.to(device) for k, v in batch.items()}
    options = {"do_sample": False, "pad_token_id": tokenizer.pad_token_id}
    with torch.inference_mode():
        model.generate(**batch, max_new_tokens=2, min_new_tokens=2, **options)
        best = float("inf")
        for _ in range(SPEED_REPEATS):
            started = time.perf_counter()
            model.generate(**batch, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                           **options)
            best = min(best, time.perf_counter() - started)
    return new_tokens / best


def weight_sparsity(model: Any) -> float:
    """Share of exact zeros in the weight matrices of the decoder's linear layers."""
    import torch

    zeros = total = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and "lm_head" not in name:
            zeros += int((module.weight == 0).sum())
            total += module.weight.numel()
    return zeros / total if total else 0.0


def measure_variant(name: str, path: str | Path, records: list[dict], *,
                    max_length: int = 128, reporter: Reporter | None = None,
                    with_sparsity: bool = False, dtype: str = "float32") -> VariantMeasure:
    """Load a variant and measure it.

    Args:
        name: the row's label (``fp32``, ``8-bit``...).
        path: model folder or ``.gguf`` file.
        records: held-out instruction records for perplexity (empty: no quality figure).
        max_length: tokens kept per scored record.
        reporter: receives the perplexity batches.
        with_sparsity: also count zero weights (pruned variants).
        dtype: weight dtype to load a full-precision folder in (its stored dtype).

    Returns:
        The measured row.

    Raises:
        Cancelled: when the reporter was asked to stop.
    """

    reporter = reporter or null_reporter()
    with PeakMemory() as meter:
        started = time.perf_counter()
        model, tokenizer = load_variant(path, dtype)
        load_s = time.perf_counter() - started
        reporter.check_cancel()
        speed = generation_speed(model, tokenizer)
        ppl = perplexity(model, tokenizer, records, max_length=max_length,
                         reporter=reporter).ppl if records else None
    row = VariantMeasure(name=name, path=str(path), size_mb=round(folder_size(path) / MB, 2),
                         load_s=round(load_s, 2),
                         memory_mb=round(model_footprint(model) / MB, 1),
                         tokens_per_s=round(speed, 2),
                         ppl=round(ppl, 4) if ppl is not None else None,
                         sparsity=round(weight_sparsity(model), 4) if with_sparsity else None,
                         peak_mb=meter.peak_mb(on_cuda=model_on_cuda(model)))
    del model
    gc.collect()
    return row
