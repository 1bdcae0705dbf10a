"""bitsandbytes 8-bit (LLM.int8) and 4-bit (NF4 / FP4) models saved as loadable folders.

The quantized model is saved with ``save_pretrained``: its ``config.json`` carries
the ``quantization_config``, so :func:`engine.models.loading.load_causal_lm` (or
``from_pretrained``) loads it back quantized without re-quantizing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.compress.checksums import write_checksums
from engine.compress.recipe import CompressRecipe
from engine.fsutil import write_folder_atomically
from engine.models.loading import load_tokenizer, silence_quantization_warnings
from engine.models.registry import import_local
from engine.offline import refuse_remote_code
from engine.progress import Reporter, null_reporter


def bnb_config(recipe: CompressRecipe) -> Any:
    """The ``BitsAndBytesConfig`` for a quantize recipe (float32 compute on CPU)."""
    import torch
    from transformers import BitsAndBytesConfig


    silence_quantization_warnings()
    if recipe.method == "quantize-8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    if recipe.method == "quantize-4bit":
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=recipe.quant_type,
                                  bnb_4bit_use_double_quant=recipe.double_quant,
                                  bnb_4bit_compute_dtype=torch.float32)
    raise ValueError(f"method '{recipe.method}' is not a quantization")


def load_quantized(folder: str | Path, recipe: CompressRecipe) -> Any:
    """Load a full-precision model folder quantized as the recipe says.

    Raises:
        ModelRefused: if the folder is not a safe, complete model folder.
    """
    import torch
    from transformers import AutoModelForCausalLM


    info = import_local(folder)
    kwargs = refuse_remote_code({"use_safetensors": True, "dtype": torch.float32,
                                 "quantization_config": bnb_config(recipe)})
    model = AutoModelForCausalLM.from_pretrained(str(info.folder), **kwargs)
    model.eval()
    return model


def quantize_to_folder(source: str | Path, out: str | Path, recipe: CompressRecipe,
                       reporter: Reporter | None = None) -> Path:
    """Quantize a model with bitsandbytes and save it, with its tokenizer and checksums.

    Args:
        source: full-precision model folder.
        out: the folder to write (written beside under a temporary name, then renamed).
        recipe: ``quantize-8bit`` or ``quantize-4bit`` with its options.
        reporter: receives progress events.

    Returns:
        ``out``.

    Raises:
        FileExistsError: if ``out`` exists.
        ModelRefused: if the source folder is refused.
    """

    reporter = reporter or null_reporter()
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new output folder")
    reporter.report(0, 2, f"Quantizing {Path(source).name} ({recipe.method})")
    model = load_quantized(source, recipe)
    tokenizer = load_tokenizer(source)
    reporter.check_cancel()
    reporter.report(1, 2, f"Saving to {out}")

    def write(folder: Path) -> None:
        model.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))
        write_checksums(folder)

    write_folder_atomically(out, write)
    reporter.report(2, 2, "Quantized model saved")
    return out
