"""The text encoder on ONNX Runtime with dynamic int8 weights: a CPU-fast path.

At first use the encoder folder (the bundled all-MiniLM-L6-v2 by default) is exported
to ONNX from its local safetensors weights (nothing is downloaded), its attention,
GELU and layer norms are fused by ONNX Runtime's transformer optimizer, and the
weights of the attention blocks (query/key/value and output projections) are
quantized to int8 per output channel; the feed-forward layers stay float32. Quantizing
them too (all of them, or only the up-projections) was faster on long texts but pulled
the cosine to float32 under 0.99: very short texts ("ok", "no") to 0.96-0.98, and
clinical texts of 41-81 tokens to 0.985-0.989 even with the up-projections alone.

Texts run in blocks of at most :data:`BATCH_TOKENS` padded tokens: 64 texts of ~130
tokens at once ran 1.4-1.9x slower than the same texts 8-16 at a time (cache-sized
blocks). The result is kept in the models folder, keyed by the encoder's config and
weights, so later runs load it in a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from engine import paths
from engine.fsutil import write_folder_atomically
from engine.offline import refuse_remote_code

FILE_NAME = "model-int8.onnx"
BUILD_VERSION = "2"  # attention-only int8; bump when the export or quantization changes
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
BATCH_TOKENS = 2048  # padded tokens per ONNX Runtime call


def onnx_available() -> bool:
    """Whether ONNX Runtime and the ONNX package are installed."""
    from importlib.util import find_spec

    return find_spec("onnxruntime") is not None and find_spec("onnx") is not None


def _require_onnx() -> None:
    if not onnx_available():
        raise ValueError("precision int8 needs the onnxruntime and onnx packages; install "
                         "them into Enclave's environment or choose float32")


def _folder_key(model_folder: Path) -> str:
    """A short key for the encoder's config and weights (name, size and time of each file)."""
    parts = [BUILD_VERSION, (model_folder / "config.json").read_text(encoding="utf-8")]
    for weights in sorted(model_folder.glob("*.safetensors")):
        stat = weights.stat()
        parts.append(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def int8_model_path(model_folder: Path, models_dir: Path | None = None) -> Path:
    """The int8 ONNX file of ``model_folder``, exported and quantized at first use.

    Raises:
        ValueError: if ONNX Runtime or ONNX is not installed.
    """
    _require_onnx()
    model_folder = Path(model_folder)
    target = (models_dir or paths.models_dir()) / "onnx" / \
        f"{model_folder.name}-{_folder_key(model_folder)}"
    if not (target / FILE_NAME).is_file():
        write_folder_atomically(target, lambda out: _build(model_folder, out), replace=True)
    return target / FILE_NAME


def _build(model_folder: Path, out: Path) -> None:
    fp32, fused = out / "model-fp32.onnx", out / "model-fused.onnx"
    config = json.loads((model_folder / "config.json").read_text(encoding="utf-8"))
    with warnings.catch_warnings():  # tracer and deprecation notices of the exporters
        warnings.simplefilter("ignore")
        _export(model_folder, fp32)
        from onnxruntime.transformers.optimizer import optimize_model

        optimize_model(str(fp32), model_type="bert", num_heads=config["num_attention_heads"],
                       hidden_size=config["hidden_size"]).save_model_to_file(str(fused))
        _quantize(fused, out / FILE_NAME)
    fp32.unlink()
    fused.unlink()


def _export(model_folder: Path, target: Path) -> None:
    """Export the encoder's last hidden state to ONNX (eager attention, so it can be fused)."""
    import torch
    from transformers import AutoModel, AutoTokenizer


    kwargs = refuse_remote_code({})
    tokenizer = AutoTokenizer.from_pretrained(str(model_folder), **kwargs)
    model = AutoModel.from_pretrained(str(model_folder), use_safetensors=True,
                                      attn_implementation="eager", **kwargs).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["an example", "a second, longer example text"], padding=True,
                       return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    torch.onnx.export(_Hidden(model), tuple(sample[name] for name in INPUTS), str(target),
                      input_names=list(INPUTS), output_names=["last_hidden_state"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    keep = [node.name for node in graph.node if node.op_type == "MatMul"
            and "/attention/" not in node.name]  # the feed-forward layers
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_exclude=keep,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


class Int8Encoder:
    """The int8 session and the fast tokenizer of one encoder folder."""

    def __init__(self, session: Any, tokenizer: Any) -> None:
        self.session, self.tokenizer = session, tokenizer

    def embed(self, texts: list[str], max_length: int) -> np.ndarray:
        """Mean-pooled, L2-normalised vectors, in blocks of at most BATCH_TOKENS tokens."""
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        encoded = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encoded], kind="stable")
        result = np.empty((len(texts), 0), dtype=np.float32)
        lengths = [len(encoded[i].ids) for i in order]
        start = 0
        while start < len(order):
            stop = _block_end(lengths, start)
            rows = order[start:stop]
            vectors = _run(self.session, [encoded[i] for i in rows])
            if result.shape[1] == 0:
                result = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            result[rows] = vectors
            start = stop
        return result


def _block_end(lengths: list[int], start: int) -> int:
    """End of the block that starts at ``start`` in ascending ``lengths`` (at most
    BATCH_TOKENS padded tokens, at least one text)."""
    stop = start + 1
    while stop < len(lengths) and (stop - start + 1) * lengths[stop] <= BATCH_TOKENS:
        stop += 1
    return stop


def _run(session: Any, encoded: list[Any]) -> np.ndarray:
    """Vectors of one block of tokenized texts (padded here to the longest)."""
    width = max(len(e.ids) for e in encoded)
    feeds = {name: np.zeros((len(encoded), width), dtype=np.int64) for name in INPUTS}
    for row, item in enumerate(encoded):
        feeds["input_ids"][row, :len(item.ids)] = item.ids
        feeds["attention_mask"][row, :len(item.ids)] = item.attention_mask
        feeds["token_type_ids"][row, :len(item.ids)] = item.type_ids
    hidden = session.run(None, feeds)[0]
    weights = feeds["attention_mask"][..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _session(path: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Threads that spin between operations take the cores other work needs: at a load of
    # 2.5 on 2 cores, mixed sentences ran 1.15x faster with spinning off in one run that
    # interleaved both sessions (bench_embed against sentence-transformers, two runs some
    # minutes apart: 1.38x with spinning, 1.84x without).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=2)
def load_int8(model_folder: Path, models_dir: Path | None = None) -> Int8Encoder:
    """The int8 session and the fast tokenizer, kept for the next call."""
    from tokenizers import Tokenizer

    return Int8Encoder(_session(int8_model_path(model_folder, models_dir)),
                       Tokenizer.from_file(str(Path(model_folder) / "tokenizer.json")))
