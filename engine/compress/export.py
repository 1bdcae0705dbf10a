"""Export a model as one folder: weights, tokenizer, model card and ``SHA256SUMS``.

``safetensors``: the model in the chosen dtype with its tokenizer, loadable by
``from_pretrained``. ``gguf``: one ``model-<type>.gguf`` file (tokenizer inside) for
llama.cpp-style runtimes, with an Ollama ``Modelfile`` and a model card that says how to run
it (:mod:`engine.compress.ollama`). Both folders carry ``README.md`` (the model card) and
the checksums of every file; :func:`engine.compress.checksums.verify_export` checks them.
The folder is written beside the target under a temporary name and renamed into place.
"""

from __future__ import annotations

from pathlib import Path

from engine.compress import ollama
from engine.compress.checksums import write_checksums
from engine.compress.classifier_runs import is_classifier_folder
from engine.compress.gguf_export import export_gguf
from engine.compress.recipe import DTYPES, GGUF_TYPES, CompressRequestError, gguf_problem
from engine.fsutil import UnsafeTarget, check_target, write_folder_atomically
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.progress import Reporter, null_reporter

FORMATS = ("safetensors", "gguf")
CARD_FILE = "README.md"


def check_export(source: str | Path, fmt: str, out: str | Path, dtype: str = "float32",
                 gguf_type: str = "f16") -> None:
    """Check an export request before any work.

    Raises:
        CompressRequestError: unknown format or dtype, existing output, an output under
            /proc, /sys, /dev or in the filesystem root, a quantized source, or GGUF for an
            unsupported model.
    """
    source, out = Path(source), Path(out)
    if fmt not in FORMATS:
        raise CompressRequestError(f"format '{fmt}' is not one of {', '.join(FORMATS)}")
    if dtype not in DTYPES:
        raise CompressRequestError(f"dtype '{dtype}' is not one of {', '.join(DTYPES)}")
    if gguf_type not in GGUF_TYPES:
        raise CompressRequestError(f"gguf type '{gguf_type}' is not one of "
                                   f"{', '.join(GGUF_TYPES)}")
    try:
        check_target(out)
    except UnsafeTarget as exc:
        raise CompressRequestError(str(exc)) from None
    if out.exists():
        raise CompressRequestError(f"{out} already exists; choose a new export folder")
    if not (source / "config.json").is_file():
        raise CompressRequestError(f"{source}: not a model folder (config.json is missing)")
    if fmt == "gguf":
        problem = gguf_problem(source)
        if problem:
            raise CompressRequestError(f"gguf export cannot run: {problem}")


def _write_safetensors(source: Path, folder: Path, dtype: str) -> None:

    if is_classifier_folder(source):
        from engine.compress.distill_classifier import load_classifier

        model = load_classifier(source, dtype)
    else:
        model = load_causal_lm(source, dtype=dtype)
    model.save_pretrained(str(folder), safe_serialization=True)
    load_tokenizer(source).save_pretrained(str(folder))


def export_model(source: str | Path, out: str | Path, fmt: str, *, dtype: str = "float32",
                 gguf_type: str = "f16", card: str = "",
                 reporter: Reporter | None = None) -> Path:
    """Write an export folder with model, tokenizer, model card and checksums.

    Args:
        source: a full-precision model folder (e.g. the merged model of a run).
        out: the export folder; must not exist.
        fmt: ``safetensors`` or ``gguf``.
        dtype: safetensors weight dtype (float32, float16, bfloat16).
        gguf_type: GGUF weight type (f32, f16, q8_0).
        card: the model card text (markdown), written as ``README.md``.
        reporter: receives progress events.

    Returns:
        ``out``.

    Raises:
        CompressRequestError: when the request is refused (see :func:`check_export`), or
            when ``out`` appeared while the export was written (it is left untouched).
    """

    source, out = Path(source), Path(out)
    reporter = reporter or null_reporter()
    check_export(source, fmt, out, dtype, gguf_type)
    reporter.report(0, 2, f"Exporting {source.name} as {fmt}")

    def write(folder: Path) -> None:
        text = card or f"# {source.name}\n"
        if fmt == "gguf":
            name = f"model-{gguf_type}.gguf"
            export_gguf(source, folder / name, gguf_type, reporter)
            (folder / ollama.MODELFILE).write_text(ollama.modelfile(name, source),
                                                   encoding="utf-8")
            text = text.rstrip("\n") + "\n\n" + ollama.run_section(name, source, out.name)
        else:
            _write_safetensors(source, folder, dtype)
        reporter.check_cancel()
        (folder / CARD_FILE).write_text(text, encoding="utf-8")
        write_checksums(folder)

    try:
        write_folder_atomically(out, write)
    except UnsafeTarget as exc:
        raise CompressRequestError(str(exc)) from None
    reporter.report(2, 2, f"Export written to {out}")
    return out
