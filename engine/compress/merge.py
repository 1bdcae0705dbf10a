"""Fold a LoRA adapter into its base model and save a plain model folder."""

from __future__ import annotations

from pathlib import Path

from engine.fsutil import write_folder_atomically
from engine.progress import Reporter, null_reporter


def merge_adapter(base_folder: str | Path, adapter_folder: str | Path,
                  out_folder: str | Path, reporter: Reporter | None = None) -> Path:
    """Merge a peft adapter into its base model and save the result.

    The merged model is saved as safetensors with the base model's tokenizer,
    first into a temporary folder beside ``out_folder`` and then renamed into
    place, so ``out_folder`` is either absent or complete.

    Args:
        base_folder: the base causal LM folder (safetensors weights).
        adapter_folder: a peft adapter folder (``adapter_config.json`` and
            ``adapter_model.safetensors``).
        out_folder: where the merged model goes; it must not exist yet.
        reporter: receives progress events.

    Returns:
        ``out_folder``.

    Raises:
        FileExistsError: if ``out_folder`` already exists.
        FileNotFoundError: if the adapter folder holds no adapter.
        ModelRefused: if the base folder is refused by the registry.
    """
    from peft import PeftModel

    from engine.models.loading import load_causal_lm, load_tokenizer

    reporter = reporter or null_reporter()
    base_folder, adapter_folder, out = Path(base_folder), Path(adapter_folder), Path(out_folder)
    _check_paths(adapter_folder, out)
    total = 3
    reporter.report(0, total, f"Loading base model {base_folder.name}")
    base = load_causal_lm(base_folder, dtype=_base_dtype(base_folder))
    tokenizer = load_tokenizer(base_folder)
    reporter.check_cancel()
    reporter.report(1, total, f"Merging adapter {adapter_folder.name}")
    peft_model = PeftModel.from_pretrained(base, str(adapter_folder), local_files_only=True)
    merged = peft_model.merge_and_unload()
    reporter.check_cancel()
    reporter.report(2, total, f"Saving merged model to {out}")
    _save_atomically(merged, tokenizer, out)
    reporter.report(total, total, "Merged model saved")
    return out


def _check_paths(adapter_folder: Path, out: Path) -> None:
    if not (adapter_folder / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{adapter_folder}: adapter_config.json is missing; "
                                "not a peft adapter folder")
    if not (adapter_folder / "adapter_model.safetensors").is_file():
        raise FileNotFoundError(f"{adapter_folder}: adapter_model.safetensors is missing "
                                "(pickled adapters are refused)")
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new output folder")


def _base_dtype(base_folder: Path) -> str:
    """Merge in the dtype the base weights are stored in (float32 if unknown)."""
    from engine.models.registry import inspect_folder

    dtype = inspect_folder(base_folder).dtype
    return dtype if dtype in {"float32", "float16", "bfloat16"} else "float32"


def _save_atomically(model, tokenizer, out: Path) -> None:
    def write(folder: Path) -> None:
        model.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))

    write_folder_atomically(out, write)
