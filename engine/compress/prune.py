"""Magnitude pruning of a causal LM's decoder linear layers.

* Unstructured: in every linear layer of the decoder the ``sparsity`` share of weights
  with the smallest magnitude is set to zero. The file stays dense (same size, same
  speed on a CPU); it is the first step towards sparse kernels or better compression
  of the file.
* Structured: in every MLP block the ``sparsity`` share of intermediate channels with
  the smallest weight norm is removed (rows of gate/up, columns of down), and
  ``intermediate_size`` shrinks. The model is really smaller and faster.

Embeddings, norms and the output head are never pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.compress.checksums import write_checksums
from engine.fsutil import write_folder_atomically
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.progress import Reporter, null_reporter


@dataclass
class PruneResult:
    """What pruning did: the folder and the share of pruned-layer weights removed."""

    folder: Path
    sparsity: float
    structured: bool
    parameters_before: int
    parameters_after: int


def _decoder_linears(model: Any) -> list[tuple[str, Any]]:
    import torch

    return [(name, module) for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and ".layers." in f".{name}"]


def prune_unstructured(model: Any, sparsity: float) -> float:
    """Zero the smallest-magnitude weights of each decoder linear layer, in place.

    Args:
        model: a causal LM in float precision.
        sparsity: share of each layer's weights to zero, 0 <= sparsity < 1.

    Returns:
        The share of zero weights reached over those layers.
    """
    import torch

    zeros = total = 0
    with torch.no_grad():
        for _, module in _decoder_linears(model):
            weight = module.weight
            count = int(weight.numel() * sparsity)
            if count:
                threshold = weight.abs().flatten().kthvalue(count).values
                weight.masked_fill_(weight.abs() <= threshold, 0.0)
            zeros += int((weight == 0).sum())
            total += weight.numel()
    return zeros / total if total else 0.0


def _keep_channels(mlp: Any, keep: int) -> Any:
    import torch

    score = (mlp.gate_proj.weight.norm(dim=1) * mlp.up_proj.weight.norm(dim=1)
             * mlp.down_proj.weight.norm(dim=0))
    return torch.topk(score, keep).indices.sort().values


def _shrink_linear(linear: Any, index: Any, dim: int) -> Any:
    import torch

    weight = linear.weight.index_select(dim, index).clone()
    shrunk = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=linear.bias is not None,
                             dtype=weight.dtype)
    shrunk.weight.data = weight
    if linear.bias is not None:
        shrunk.bias.data = linear.bias.clone() if dim == 1 else linear.bias[index].clone()
    return shrunk


def prune_structured(model: Any, sparsity: float) -> float:
    """Remove the weakest MLP channels of every decoder layer, in place.

    Returns:
        The share of MLP weights removed.

    Raises:
        ValueError: if the model's MLPs are not gate/up/down (Llama-style).
    """
    import torch

    layers = model.model.layers
    if not all(hasattr(layer.mlp, "gate_proj") for layer in layers):
        raise ValueError("structured pruning needs Llama-style MLPs (gate_proj, up_proj, "
                         "down_proj)")
    width = model.config.intermediate_size
    keep = max(1, width - int(width * sparsity))
    with torch.no_grad():
        for layer in layers:
            mlp = layer.mlp
            index = _keep_channels(mlp, keep)
            mlp.gate_proj = _shrink_linear(mlp.gate_proj, index, 0)
            mlp.up_proj = _shrink_linear(mlp.up_proj, index, 0)
            mlp.down_proj = _shrink_linear(mlp.down_proj, index, 1)
            if hasattr(mlp, "intermediate_size"):
                mlp.intermediate_size = keep
    model.config.intermediate_size = keep
    return 1 - keep / width


def prune_to_folder(source: str | Path, out: str | Path, sparsity: float,
                    structured: bool = False, reporter: Reporter | None = None) -> PruneResult:
    """Prune a model folder and save the result with its tokenizer and checksums.

    Args:
        source: full-precision model folder.
        out: the folder to write (atomically).
        sparsity: 0 <= sparsity < 1.
        structured: remove MLP channels instead of zeroing single weights.
        reporter: receives progress events.

    Returns:
        The folder and the sparsity reached.

    Raises:
        ValueError: for a sparsity outside 0-1 (before loading anything).
        FileExistsError: if ``out`` exists.
    """

    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity {sparsity} is outside 0-1")
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new output folder")
    reporter = reporter or null_reporter()
    reporter.report(0, 2, f"Pruning {Path(source).name} to {sparsity:.0%}"
                          f"{' (structured)' if structured else ''}")
    model = load_causal_lm(source, dtype="float32")
    before = sum(p.numel() for p in model.parameters())
    reached = prune_structured(model, sparsity) if structured \
        else prune_unstructured(model, sparsity)
    after = sum(p.numel() for p in model.parameters())
    reporter.check_cancel()
    tokenizer = load_tokenizer(source)

    def write(folder: Path) -> None:
        model.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))
        write_checksums(folder)

    write_folder_atomically(out, write)
    reporter.report(2, 2, f"Pruned model saved (sparsity {reached:.1%})")
    return PruneResult(out, reached, structured, before, after)
