"""Compression of classifier runs: the tuned classifier (adapter merged) is distilled into a
smaller student, and teacher and student are measured side by side in the same job, on
the same held-out records: size on disk, memory of the loaded weights, peak memory of
loading and classifying, samples per second, accuracy and macro-F1.

A run is a classifier run when its model folder is a ``*ForSequenceClassification`` model,
or when its adapter was trained on task ``classification`` (``enclave_recipe.json``).
"""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path
from typing import Any

import sqlite_utils

from engine.compress.distill_classifier import (
    distill_classifier_to_folder,
    label_names,
    load_classifier,
)
from engine.compress.peak_memory import MEMORY_NOTE, PeakMemory, model_on_cuda
from engine.compress.recipe import CompressRecipe, CompressRequestError, check_request
from engine.compress.sizes import model_footprint
from engine.compress.sources import project_records
from engine.fsutil import folder_size, write_folder_atomically
from engine.metrics.classification import classification_scores
from engine.models.loading import load_tokenizer
from engine.models.run_models import RunSource, adapter_base
from engine.offline import refuse_remote_code
from engine.progress import Reporter, null_reporter
from engine.train.job import dataset_records

MB = 1024 * 1024
MEASURE_BATCH = 16
SPEED_REPEATS = 2  # best of: a busy machine slows single runs unevenly
SPEED_SECONDS = 1.0
TRAIN_RECORDS_MAX = 10_000
RECIPE_FILE = "enclave_recipe.json"


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def is_classifier_folder(folder: Path) -> bool:
    """Whether a model folder holds a sequence-classification model."""
    architectures = _json(Path(folder) / "config.json").get("architectures") or []
    return any(str(name).endswith("ForSequenceClassification") for name in architectures)


def is_classifier_source(source: RunSource) -> bool:
    """Whether a run's model is a text classifier (full folder or classification adapter)."""
    if source.model is not None:
        return is_classifier_folder(source.model)
    if source.adapter is None:
        return False
    return _json(source.adapter / RECIPE_FILE).get("task") == "classification" or \
        _json(source.adapter / "adapter_config.json").get("task_type") == "SEQ_CLS"


def adapter_label_names(adapter: Path) -> list[str]:
    """The label names a classification adapter was trained with.

    Raises:
        CompressRequestError: when the adapter's recipe file does not name them.
    """
    names = _json(Path(adapter) / RECIPE_FILE).get("label_names")
    if not names:
        raise CompressRequestError(f"{Path(adapter) / RECIPE_FILE}: field 'label_names' is "
                                   "missing; cannot rebuild the classification head")
    return [str(name) for name in names]


def training_records(db: sqlite_utils.Database, source: RunSource) -> list[dict]:
    """The records the teacher was trained on (the run's dataset), else the project's
    newest training set."""

    dataset_id = source.run["recipe"].get("dataset_id")
    if dataset_id is not None and db["datasets"].count_where("id = ?", [dataset_id]):
        return dataset_records(db, dataset_id)[:TRAIN_RECORDS_MAX]
    return project_records(db, source.run, "train", TRAIN_RECORDS_MAX)


def _labelled(records: list[dict]) -> list[dict]:
    return [r for r in records if isinstance(r.get("text"), str)
            and isinstance(r.get("label"), (str, int)) and not isinstance(r["label"], bool)]


def check_classifier_request(db: sqlite_utils.Database, source: RunSource,
                             recipe: CompressRecipe) -> None:
    """Check a compression of a classifier run before any model is loaded.

    Raises:
        CompressRequestError: for a method other than ``distill``, a student that is not
            smaller, a missing base model or label names, or no labelled training record.
    """
    run = source.run
    if recipe.method != "distill":
        raise CompressRequestError(
            f"run {run['id']} is a text classifier: only --method distill applies to "
            f"classifiers ({recipe.method} works on causal language models)")
    if source.model is None:
        if adapter_base(source.adapter) is None:
            base = _json(source.adapter / RECIPE_FILE).get("base_model", "?")
            raise CompressRequestError(f"run {run['id']}: the base model of its adapter "
                                       f"({base}) is not on disk")
        adapter_label_names(source.adapter)
    check_request(recipe, source.model or source.base)
    records = training_records(db, source)
    if not records:
        raise CompressRequestError("distillation needs the project's training records; "
                                   "the project has no dataset")
    bad = next((i for i, r in enumerate(records) if not _labelled([r])), None)
    if bad is not None:
        raise CompressRequestError(
            f"training record {bad}: a classifier learns from fields 'text' (string) and "
            f"'label' (name or integer); this record has {sorted(records[bad])}")


def merge_classifier_adapter(base: Path, adapter: Path, out: Path,
                             reporter: Reporter | None = None) -> Path:
    """Fold a classification adapter (with its trained head) into its base; save atomically.

    Raises:
        FileExistsError: if ``out`` exists.
    """
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification


    reporter = reporter or null_reporter()
    if Path(out).exists():
        raise FileExistsError(f"{out} already exists; choose a new output folder")
    names = adapter_label_names(adapter)
    reporter.report(0, 2, f"Merging adapter {Path(adapter).name} into {Path(base).name}")
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base), num_labels=len(names), id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
        **refuse_remote_code({"use_safetensors": True}))
    merged = PeftModel.from_pretrained(model, str(adapter), local_files_only=True) \
        .merge_and_unload()
    tokenizer = load_tokenizer(adapter if (Path(adapter) / "tokenizer_config.json").is_file()
                               else base)

    def write(folder: Path) -> None:
        merged.save_pretrained(str(folder), safe_serialization=True)
        tokenizer.save_pretrained(str(folder))

    write_folder_atomically(Path(out), write)
    reporter.report(2, 2, "Merged classifier saved")
    return Path(out)


def predict(model: Any, tokenizer: Any, records: list[dict], max_length: int,
            batch_size: int = MEASURE_BATCH) -> list[str]:
    """Predicted label names for ``{"text"[, "text_pair"]}`` records, in batches."""
    import torch


    names = label_names(model)
    device = next(model.parameters()).device
    predictions: list[str] = []
    with torch.inference_mode():
        for at in range(0, len(records), batch_size):
            chunk = records[at:at + batch_size]
            pairs = [r.get("text_pair") for r in chunk]
            batch = tokenizer([r["text"] for r in chunk],
                              pairs if all(isinstance(p, str) for p in pairs) else None,
                              truncation=True, max_length=max_length, padding=True,
                              return_tensors="pt").to(device)
            logits = model(**batch).logits
            predictions += [names[int(i)] for i in logits.argmax(dim=-1)]
    return predictions


def _speed(model: Any, tokenizer: Any, records: list[dict], max_length: int) -> float:
    """Samples per second: the best pass after a one-batch warm-up; passes repeat (at
    least ``SPEED_REPEATS``, at most 20) until ``SPEED_SECONDS`` have gone by, so that
    small models are not timed on a few milliseconds of a busy machine."""
    predict(model, tokenizer, records[:MEASURE_BATCH], max_length)
    best, spent, passes = float("inf"), 0.0, 0
    while passes < SPEED_REPEATS or (spent < SPEED_SECONDS and passes < 20):
        started = time.perf_counter()
        predict(model, tokenizer, records, max_length)
        elapsed = time.perf_counter() - started
        best, spent, passes = min(best, elapsed), spent + elapsed, passes + 1
    return len(records) / best


def measure_classifier(name: str, path: Path, records: list[dict], speed_records: list[dict],
                       *, max_length: int = 128) -> dict:
    """Load a classifier and measure it: one row of the comparison table.

    Args:
        name: the row's label (``tuned fp32``, ``distilled 3-layer``).
        path: the model folder.
        records: labelled held-out records for accuracy and macro-F1 (empty: no quality).
        speed_records: records classified to measure samples per second.
        max_length: tokens kept per record.

    Returns:
        ``name, path, layers, size_mb, load_s, memory_mb`` (loaded weights), ``peak_mb``
        (peak memory added by loading and classifying), ``samples_per_s, accuracy,
        macro_f1`` (``tokens_per_s`` and ``ppl`` are ``None`` for classifiers).
    """

    with PeakMemory() as meter:
        started = time.perf_counter()
        model, tokenizer = load_classifier(path), load_tokenizer(path)
        load_s = time.perf_counter() - started
        speed = _speed(model, tokenizer, speed_records, max_length) if speed_records else None
        scores = None
        if records:
            predicted = predict(model, tokenizer, records, max_length)
            scores = classification_scores([str(r["label"]) for r in records], predicted)
    row = {"name": name, "path": str(path), "layers": model.config.num_hidden_layers,
           "size_mb": round(folder_size(path) / MB, 2), "load_s": round(load_s, 2),
           "memory_mb": round(model_footprint(model) / MB, 1),
           "peak_mb": meter.peak_mb(on_cuda=model_on_cuda(model)),
           "samples_per_s": round(speed, 1) if speed else None, "tokens_per_s": None,
           "ppl": None, "accuracy": round(scores["accuracy"], 4) if scores else None,
           "macro_f1": round(scores["macro"]["f1"], 4) if scores else None}
    del model
    gc.collect()
    return row


def compress_classifier(db: sqlite_utils.Database, source: RunSource, recipe: CompressRecipe,
                        workdir: Path, reporter: Reporter) -> dict:
    """Distill a classifier run and measure teacher and student on the held-out records.

    Returns:
        ``{"path", "label", "figures", "variants", "eval_records"}``.
    """

    teacher = source.model or merge_classifier_adapter(
        source.base, source.adapter, workdir / "merged", reporter.for_stage("merge"))
    train = _labelled(training_records(db, source))
    result = distill_classifier_to_folder(teacher, train, workdir / "model", recipe,
                                          reporter.for_stage("compress"))
    reporter.check_cancel()
    held_out = _labelled(project_records(db, source.run, "test", recipe.eval_records))
    speed_records = (held_out or train)[:64]
    label = f"distilled {result.student_layers}-layer"
    step = reporter.for_stage("measure")
    rows = []
    for index, (name, path) in enumerate((("tuned fp32", teacher), (label, result.folder))):
        step.report(index, 2, f"measuring {name}")
        rows.append(measure_classifier(name, Path(path), held_out, speed_records,
                                       max_length=recipe.max_length))
    step.report(2, 2, "measured")
    figures = {"student_layers": result.student_layers, "teacher_layers":
               result.teacher_layers, "kept_layers": result.kept_layers,
               "distill_loss_start": round(result.losses[0], 4),
               "distill_loss_end": round(result.losses[-1], 4), "task": "classification"}
    return {"path": result.folder, "label": label, "figures": figures, "variants": rows,
            "eval_records": len(held_out)}


def format_classifier_comparison(rows: list[dict]) -> str:
    """Classifier comparison rows as a plain-text table."""

    header = (f"{'variant':<22} {'layers':>6} {'size MB':>9} {'weights MB':>10} "
              f"{'peak MB':>9} {'load s':>7} {'samples/s':>10} {'accuracy':>9} {'macro-F1':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['name']:<22} {r.get('layers') or '-':>6} {r['size_mb']:>9.1f} "
                     f"{r['memory_mb']:>10.1f} {number_cell(r.get('peak_mb'), 9, 1)} "
                     f"{r['load_s']:>7.2f} {number_cell(r.get('samples_per_s'), 10, 1)} "
                     f"{number_cell(r.get('accuracy'), 9, 3)} "
                     f"{number_cell(r.get('macro_f1'), 9, 3)}")
    lines.append(MEMORY_NOTE)
    return "\n".join(lines)


def number_cell(value: float | None, width: int, digits: int) -> str:
    """A right-aligned number, or ``-`` for a figure that was not measured."""
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"
