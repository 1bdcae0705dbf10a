"""GGUF export of Llama-family models, written with the ``gguf`` package's GGUFWriter.

Tensor names, the q/k row permutation and the metadata keys follow llama.cpp's own
converter, so llama.cpp-style runtimes and transformers (``gguf_file=``) read the
file. Weight matrices are written as f32, f16 or q8_0; norms stay f32. The BPE
tokenizer (tokens, types, merges, special ids, chat template) is written too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.compress.recipe import CompressRequestError, gguf_problem
from engine.models.loading import load_tokenizer
from engine.progress import Reporter, null_reporter

_LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
_TOP_NAMES = {"model.embed_tokens.weight": "token_embd.weight",
              "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}
_FILE_TYPES = {"f32": "ALL_F32", "f16": "MOSTLY_F16", "q8_0": "MOSTLY_Q8_0"}
# llama.cpp token types
_NORMAL, _CONTROL, _USER_DEFINED, _UNUSED = 1, 3, 4, 5


def gguf_tensor_name(hf_name: str) -> str:
    """The llama.cpp name of a Hugging Face Llama tensor.

    Raises:
        KeyError: for a tensor the Llama layout does not have.
    """
    if hf_name in _TOP_NAMES:
        return _TOP_NAMES[hf_name]
    parts = hf_name.split(".", 3)
    if len(parts) == 4 and parts[:2] == ["model", "layers"] and parts[3] in _LAYER_NAMES:
        return f"blk.{int(parts[2])}.{_LAYER_NAMES[parts[3]]}"
    raise KeyError(f"tensor '{hf_name}' has no GGUF name in the Llama layout")


def _permute_rows(weights: Any, heads: int) -> Any:
    """HF rotary layout → GGML's interleaved one (llama.cpp's ``permute``)."""
    return (weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def _rope_theta(config: dict) -> float:
    parameters = config.get("rope_parameters") or {}
    return float(parameters.get("rope_theta", config.get("rope_theta", 10000.0)))


def _write_model_metadata(writer: Any, config: dict, name: str, gguf_type: str) -> None:
    import gguf

    heads = int(config["num_attention_heads"])
    head_dim = int(config.get("head_dim") or config["hidden_size"] // heads)
    writer.add_name(name)
    writer.add_context_length(int(config.get("max_position_embeddings", 2048)))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_block_count(int(config["num_hidden_layers"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_head_count(heads)
    writer.add_head_count_kv(int(config.get("num_key_value_heads") or heads))
    writer.add_rope_freq_base(_rope_theta(config))
    writer.add_layer_norm_rms_eps(float(config.get("rms_norm_eps", 1e-6)))
    writer.add_rope_dimension_count(head_dim)
    if head_dim != int(config["hidden_size"]) // heads:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_vocab_size(int(config["vocab_size"]))
    writer.add_file_type(int(getattr(gguf.LlamaFileType, _FILE_TYPES[gguf_type])))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)


def _token_list(folder: Path, vocab_size: int) -> tuple[list[str], list[int], list[str]]:
    """Tokens by id, their llama.cpp types and the merges, from ``tokenizer.json``."""
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    tokens: dict[int, str] = {int(i): t for t, i in data["model"]["vocab"].items()}
    types = {i: _NORMAL for i in tokens}
    for added in data.get("added_tokens", []):
        tokens[int(added["id"])] = added["content"]
        types[int(added["id"])] = _CONTROL if added.get("special") else _USER_DEFINED
    size = max(vocab_size, max(tokens) + 1)
    names = [tokens.get(i, f"[PAD{i}]") for i in range(size)]
    kinds = [types.get(i, _UNUSED) for i in range(size)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in data["model"].get("merges", [])]
    return names, kinds, merges


def _write_tokenizer(writer: Any, folder: Path, config: dict) -> None:

    tokenizer = load_tokenizer(folder)
    names, kinds, merges = _token_list(folder, int(config["vocab_size"]))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt2")
    writer.add_token_list(names)
    writer.add_token_types(kinds)
    writer.add_token_merges(merges)
    for token_id, add in ((tokenizer.bos_token_id, writer.add_bos_token_id),
                          (tokenizer.eos_token_id, writer.add_eos_token_id),
                          (tokenizer.unk_token_id, writer.add_unk_token_id),
                          (tokenizer.pad_token_id, writer.add_pad_token_id)):
        if token_id is not None:
            add(int(token_id))
    writer.add_add_bos_token(bool(getattr(tokenizer, "add_bos_token", False)))
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)


def _encoded(name: str, array: Any, gguf_type: str) -> tuple[Any, Any]:
    """The tensor as written, and its raw GGML type (None: from the numpy dtype)."""
    import gguf
    import numpy as np

    if array.ndim == 1 or gguf_type == "f32":
        return array.astype(np.float32), None
    if gguf_type == "q8_0" and array.shape[-1] % 32 == 0:
        kind = gguf.GGMLQuantizationType.Q8_0
        return gguf.quants.quantize(array.astype(np.float32), kind), kind
    return array.astype(np.float16), None


def _tensors(folder: Path, config: dict):
    """(gguf name, float32 numpy array) for every weight, q/k rows permuted."""
    from safetensors import safe_open

    heads = int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    tied = bool(config.get("tie_word_embeddings", False))
    for file in sorted(folder.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as handle:
            for hf_name in handle.keys():
                if hf_name == "lm_head.weight" and tied:
                    continue
                name = gguf_tensor_name(hf_name)
                array = handle.get_tensor(hf_name).float().numpy()
                if name.endswith("attn_q.weight"):
                    array = _permute_rows(array, heads)
                elif name.endswith("attn_k.weight"):
                    array = _permute_rows(array, kv_heads)
                yield name, array


def _write_file(path: Path, folder: Path, config: dict, gguf_type: str,
                reporter: Reporter) -> None:
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    try:
        _write_model_metadata(writer, config, folder.name, gguf_type)
        _write_tokenizer(writer, folder, config)
        total = 2 + 9 * int(config["num_hidden_layers"])
        for index, (name, array) in enumerate(_tensors(folder, config), start=1):
            data, raw_type = _encoded(name, array, gguf_type)
            writer.add_tensor(name, data, raw_dtype=raw_type)
            if index % 32 == 0:
                reporter.check_cancel()
                reporter.report(index, total, f"{index} tensors converted")
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()


def export_gguf(folder: str | Path, out_file: str | Path, gguf_type: str = "f16",
                reporter: Reporter | None = None) -> Path:
    """Write a Llama-family model folder as one GGUF file.

    Args:
        folder: a full-precision model folder (safetensors, ``tokenizer.json`` BPE).
        out_file: the ``.gguf`` file to write; written under a temporary name
            beside it, then renamed.
        gguf_type: ``f32``, ``f16`` or ``q8_0`` for the weight matrices.
        reporter: receives one event per 32 tensors.

    Returns:
        ``out_file``.

    Raises:
        CompressRequestError: for an unsupported architecture or tokenizer (before
            any tensor is read), or an unknown ``gguf_type``.
        FileExistsError: if ``out_file`` exists.
    """
    folder, out_file = Path(folder), Path(out_file)
    reporter = reporter or null_reporter()
    problem = gguf_problem(folder)
    if problem:
        raise CompressRequestError(f"gguf export cannot run: {problem}")
    if gguf_type not in _FILE_TYPES:
        raise CompressRequestError(f"gguf type '{gguf_type}' is not one of "
                                   f"{', '.join(_FILE_TYPES)}")
    if out_file.exists():
        raise FileExistsError(f"{out_file} already exists; choose a new file name")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_file.with_name(f".{out_file.name}.tmp-{os.getpid()}")
    try:
        _write_file(temporary, folder, config, gguf_type, reporter)
        temporary.rename(out_file)
    finally:
        temporary.unlink(missing_ok=True)
    reporter.report(1, 1, f"GGUF written: {out_file.name}")
    return out_file
