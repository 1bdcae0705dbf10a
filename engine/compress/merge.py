"""Fold a LoRA adapter into its base model and save a plain model folder.

Causal-LM adapters merge into the causal model; classification adapters (peft task type
``SEQ_CLS``, trained on an encoder) merge into the encoder with its trained head, whose label
names come from the run's ``enclave_recipe.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.fsutil import write_folder_atomically
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.models.registry import import_local, inspect_folder
from engine.offline import refuse_remote_code
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


    reporter = reporter or null_reporter()
    base_folder, adapter_folder, out = Path(base_folder), Path(adapter_folder), Path(out_folder)
    _check_paths(adapter_folder, out)
    total = 3
    reporter.report(0, total, f"Loading base model {base_folder.name}")
    base = _load_base(base_folder, adapter_folder)
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


def _load_base(base_folder: Path, adapter_folder: Path) -> Any:
    """The base model the adapter was trained on: causal, or an encoder classifier."""

    config = json.loads((adapter_folder / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("task_type") != "SEQ_CLS":
        return load_causal_lm(base_folder, dtype=_base_dtype(base_folder))
    import torch
    from transformers import AutoModelForSequenceClassification


    names = _label_names(adapter_folder)
    info = import_local(base_folder)
    return AutoModelForSequenceClassification.from_pretrained(
        str(info.folder), num_labels=len(names), id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
        **refuse_remote_code({"use_safetensors": True,
                              "dtype": getattr(torch, _base_dtype(base_folder))}))


def _label_names(adapter_folder: Path) -> list[str]:
    saved = adapter_folder / "enclave_recipe.json"
    names = json.loads(saved.read_text(encoding="utf-8")).get("label_names") \
        if saved.is_file() else None
    if not names:
        raise FileNotFoundError(f"{saved}: a classification adapter needs its run's label "
                                "names (field 'label_names') to rebuild the head")
    return list(names)


def _base_dtype(base_folder: Path) -> str:
    """Merge in the dtype the base weights are stored in (float32 if unknown)."""

    dtype = inspect_folder(base_folder).dtype
    return dtype if dtype in {"float32", "float16", "bfloat16"} else "float32"


def _save_atomically(model, tokenizer, out: Path) -> None:
    def write(folder: Path) -> None:
        model.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))

    write_folder_atomically(out, write)
