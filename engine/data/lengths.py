"""Record lengths in tokens of a chosen tokenizer, or in words."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

import engine  # noqa: F401  (offline switches)
from engine.models import bundled

LengthCounter = Callable[[list[str]], list[int]]


def word_counts(texts: list[str]) -> list[int]:
    """Whitespace-separated words per text."""
    return [len(text.split()) for text in texts]


def length_counter(tokenizer: str) -> tuple[LengthCounter, str]:
    """A function that counts lengths of many texts at once, and its unit.

    Args:
        tokenizer: "words"; "smollm2" for the bundled base model's tokenizer (from its model
            cache folder when converted, else from the GGUF file, which takes ~20 s once);
            or a local model folder holding a tokenizer.

    Returns:
        ``(counter, unit)`` where unit is "tokens" or "words".

    Raises:
        ValueError: If the tokenizer cannot be loaded.
    """
    if tokenizer == "words":
        return word_counts, "words"
    loaded = _load(tokenizer)

    def count(texts: list[str]) -> list[int]:
        return [len(ids) for ids in loaded(texts, add_special_tokens=False)["input_ids"]]

    return count, "tokens"


@lru_cache(maxsize=2)
def _load(tokenizer: str):
    from transformers import AutoTokenizer

    try:
        if tokenizer != "smollm2":
            return AutoTokenizer.from_pretrained(str(Path(tokenizer)), local_files_only=True)
        folder = bundled.smollm2_cache_folder()
        if bundled._is_complete(folder):
            return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        gguf = bundled.smollm2_gguf()
        return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                             local_files_only=True)
    except (OSError, ValueError, bundled.BundledModelMissing) as exc:
        raise ValueError(f"cannot load the tokenizer {tokenizer!r}: {exc}; use 'words' or a model "
                         "folder that holds tokenizer files") from None
