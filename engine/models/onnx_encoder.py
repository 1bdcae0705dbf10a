"""The text encoder on ONNX Runtime with dynamic int8 weights: a CPU-fast path.

At first use the encoder folder (the bundled all-MiniLM-L6-v2 by default) is exported
to ONNX from its local safetensors weights (nothing is downloaded), its attention,
GELU and layer norms are fused by ONNX Runtime's transformer optimizer, and the
weights are quantized to int8 per output channel, into two files:

- ``model-int8.onnx``: the attention blocks (query/key/value and output projections)
  int8, the feed-forward layers float32. Holds every row tested at cosine >= 0.99 to
  float32, down to one-word texts.
- ``model-int8-ffn.onnx``: also the feed-forward up-projections int8 (the
  down-projections, whose inputs carry GELU outliers, stay float32). About 1.3x
  faster on long texts, where the feed-forward layers dominate, and >= 0.993 cosine
  on texts of 16 tokens and more, but down to 0.977 on texts of a few tokens. So only
  batches whose shortest text has :data:`LONG_TOKENS` tokens or more run on it.
  Quantizing the down-projections too left long texts at 0.985.

Texts are run in batches of at most :data:`BATCH_TOKENS` padded tokens: 64 long texts
at once ran 1.5-2x slower than the same texts 8-16 at a time (cache-sized blocks).
The files are kept in the models folder, keyed by the encoder's config and weights,
so later runs load them in a fraction of a second.
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
LONG_FILE_NAME = "model-int8-ffn.onnx"
BUILD_VERSION = "3"  # bump when the export or quantization changes
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
LONG_TOKENS = 32  # a batch whose shortest text has this many tokens runs on the FFN-int8 file
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
        _quantize(fused, out / FILE_NAME, feed_forward=False)
        _quantize(fused, out / LONG_FILE_NAME, feed_forward=True)
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


def _quantize(source: Path, target: Path, *, feed_forward: bool) -> None:
    """int8 attention weights; with ``feed_forward`` the up-projections too."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    quantized = ("/attention/", "/intermediate/") if feed_forward else ("/attention/",)
    keep = [node.name for node in graph.node if node.op_type == "MatMul"
            and not any(part in node.name for part in quantized)]
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_exclude=keep,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


class Int8Encoder:
    """The two int8 sessions and the fast tokenizer of one encoder folder."""

    def __init__(self, short: Any, long: Any, tokenizer: Any) -> None:
        self.short, self.long, self.tokenizer = short, long, tokenizer

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
            session = self.long if lengths[start] >= LONG_TOKENS else self.short
            vectors = _run(session, [encoded[i] for i in rows])
            if result.shape[1] == 0:
                result = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            result[rows] = vectors
            start = stop
        return result


def _block_end(lengths: list[int], start: int) -> int:
    """End of the block that starts at ``start`` in ascending ``lengths``: at most
    BATCH_TOKENS padded tokens, and texts on one side of LONG_TOKENS only."""
    long = lengths[start] >= LONG_TOKENS
    stop = start + 1
    while stop < len(lengths) and (stop - start + 1) * lengths[stop] <= BATCH_TOKENS \
            and (lengths[stop] >= LONG_TOKENS) == long:
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
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=2)
def load_int8(model_folder: Path, models_dir: Path | None = None) -> Int8Encoder:
    """The int8 sessions and the fast tokenizer, kept for the next call."""
    from tokenizers import Tokenizer

    short = int8_model_path(model_folder, models_dir)
    return Int8Encoder(_session(short), _session(short.with_name(LONG_FILE_NAME)),
                       Tokenizer.from_file(str(Path(model_folder) / "tokenizer.json")))
