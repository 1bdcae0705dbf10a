"""Which modules LoRA adapts, per architecture (``config.model_type``)."""

from __future__ import annotations

OPTIMIZERS = ("adamw", "sgd", "rmsprop")
SCHEDULERS = ("cosine", "linear", "constant")

# Attention projections that LoRA adapts, per ``config.model_type``.
TARGET_MODULES_BY_ARCHITECTURE: dict[str, list[str]] = {
    **{name: ["q_proj", "k_proj", "v_proj", "o_proj"]
       for name in ("llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2",
                    "gemma3_text", "phi", "olmo", "olmo2", "granite", "smollm3")},
    "phi3": ["qkv_proj", "o_proj"],
    "gpt2": ["c_attn"],
    "gpt_neox": ["query_key_value"],
    **{name: ["query", "key", "value"]
       for name in ("bert", "roberta", "xlm-roberta", "electra")},
    "deberta-v2": ["query_proj", "key_proj", "value_proj"],
    "modernbert": ["Wqkv", "Wo"],
    "distilbert": ["q_lin", "k_lin", "v_lin"],
    "mpnet": ["q", "k", "v"],
}


def lora_targets(target_modules: str, model_type: str) -> list[str]:
    """The module names LoRA adapts: the comma-separated names given, or for "auto"
    the defaults of the architecture (``config.model_type``).

    Raises:
        ValueError: when ``target_modules`` is 'auto' and the architecture is unknown.
    """
    if target_modules.strip() != "auto":
        return [name.strip() for name in target_modules.split(",") if name.strip()]
    if model_type not in TARGET_MODULES_BY_ARCHITECTURE:
        raise ValueError(f"no default LoRA target modules for architecture {model_type!r}; "
                         "set target_modules to comma-separated module names")
    return list(TARGET_MODULES_BY_ARCHITECTURE[model_type])
