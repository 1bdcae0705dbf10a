"""`enclave compress` and `enclave export`: checked here, run as jobs, printed for people."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.errors import CommandError
from engine.cli.export_guard import check_memorization, seal_export
from engine.cli.jobs import run_job
from engine.cli.parser import add_command as add
from engine.cli.workspace import open_workspace
from engine.compress.checksums import verify_export
from engine.compress.classifier_runs import format_classifier_comparison, number_cell
from engine.compress.export import FORMATS, check_export
from engine.compress.job import prepare_request
from engine.compress.peak_memory import MEMORY_NOTE
from engine.compress.recipe import METHODS, CompressRecipe, CompressRequestError
from engine.models.run_models import RunModelError, run_source

_RECIPE_FLAGS = {
    "quant_type": (("--quant-type",), {"help": "4-bit type: nf4 or fp4"}),
    "double_quant": (("--no-double-quant",), {"action": "store_false", "dest": "double_quant",
                                              "default": None,
                                              "help": "4-bit: no double quantization"}),
    "dtype": (("--dtype",), {"help": "merge: float32, float16 or bfloat16"}),
    "sparsity": (("--sparsity",), {"type": float, "help": "prune: share zeroed, 0-1"}),
    "structured": (("--structured",), {"action": "store_true", "default": None,
                                       "help": "prune: remove whole MLP channels"}),
    "gguf_type": (("--gguf-type",), {"help": "gguf: f32, f16 or q8_0"}),
    "student_layers": (("--student-layers",), {"type": int, "help": "distill: layers"}),
    "distill_steps": (("--steps",), {"type": int, "dest": "distill_steps",
                                     "help": "distill: optimizer steps"}),
    "eval_records": (("--eval-records",), {"type": int,
                                           "help": "held-out records scored (0: none)"}),
}


def register(sub) -> None:
    """Add `compress` and `export`."""

    add(sub, "compress", "compress a run's model and compare size, speed and quality",
        compress, (("run",), {"type": int, "help": "run id (see the run list in the window)"}),
        (("--method",), {"required": True, "choices": METHODS}),
        (("--set",), {"action": "append", "default": [], "metavar": "KEY=VALUE",
                      "help": "any other recipe field"}),
        *_RECIPE_FLAGS.values())
    add(sub, "export", "export a run's model with tokenizer, model card and checksums",
        export, (("run",), {"type": int}), (("out",), {"help": "export folder to create"}),
        (("--format",), {"required": True, "choices": list(FORMATS)}),
        (("--dtype",), {"default": "float32", "help": "safetensors dtype"}),
        (("--gguf-type",), {"default": "f16", "help": "gguf tensor type: f32, f16, q8_0"}),
        (("--acknowledge-memorization",), {"action": "store_true", "help": "export although "
                                           "the memorization check flagged the model (recorded "
                                           "in the audit trail)"}),
        (("--seal",), {"action": "store_true", "help": "write an encrypted archive "
                       "(OUT.enclave-sealed, AES-256-GCM) instead of a plain folder"}),
        (("--archive-passphrase-file",), {"metavar": "FILE", "help": "the archive's "
                                          "passphrase (default: ask twice)"}))
    add(sub, "verify-export", "check an export folder against its SHA256SUMS", verify,
        (("folder",), {}))


def _recipe_values(args: argparse.Namespace) -> dict:
    values = {"method": args.method}
    for name in _RECIPE_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise CommandError(f"--set {item}: expected KEY=VALUE")
        values[key.strip().replace("-", "_")] = value.strip()
    return values


def _run_job(kind: str, params: dict, project_id: int) -> dict:
    job_id, result = run_job(kind, params, project_id)
    return {"job_id": job_id, **result}


def compress(args: argparse.Namespace) -> dict:

    db = open_workspace()
    if args.student_layers is not None and args.student_layers < 1:
        raise CommandError(f"--student-layers {args.student_layers}: a student needs at least "
                           "1 layer; leave the option out for half of the teacher's layers")
    try:
        recipe = CompressRecipe.from_dict(_recipe_values(args))
        source = prepare_request(db, args.run, recipe)
    except (CompressRequestError, RunModelError) as exc:
        raise CommandError(str(exc)) from exc
    result = _run_job("compress", {"run_id": args.run, "recipe": recipe.to_dict()},
                      source.run["project_id"])
    if not args.json:
        print(format_comparison(result["variants"]))
        print(f"\nnew run {result['run_id']}: {result['path']}")
    return {"ok": True, **result}


def format_comparison(rows: list[dict]) -> str:
    """The comparison rows as a plain-text table."""

    if any("accuracy" in r for r in rows):
        return format_classifier_comparison(rows)
    header = f"{'variant':<24} {'size MB':>9} {'weights MB':>10} {'peak MB':>9} " \
             f"{'load s':>7} {'tokens/s':>9} {'perplexity':>11}"
    lines = [header, "-" * len(header)]
    for r in rows:
        ppl = "-" if r["ppl"] is None else f"{r['ppl']:.3f}"
        lines.append(f"{r['name']:<24} {r['size_mb']:>9.1f} {r['memory_mb']:>10.1f} "
                     f"{number_cell(r.get('peak_mb'), 9, 1)} {r['load_s']:>7.2f} "
                     f"{r['tokens_per_s']:>9.2f} {ppl:>11}")
    lines.append(MEMORY_NOTE)
    return "\n".join(lines)


def export(args: argparse.Namespace) -> dict:

    db = open_workspace()
    out = Path(args.out).expanduser().resolve()
    try:
        source = run_source(db, args.run)
        check_export(source.model or source.base, args.format, out, args.dtype,
                     args.gguf_type)
    except (CompressRequestError, RunModelError) as exc:
        raise CommandError(str(exc)) from exc

    check_memorization(db, args.run, args.acknowledge_memorization)
    params = {"run_id": args.run, "format": args.format, "out": str(out),
              "dtype": args.dtype, "gguf_type": args.gguf_type}
    result = _run_job("export", params, source.run["project_id"])
    if args.seal:
        result["path"] = seal_export(db, args.run, out, args.archive_passphrase_file)
    if not args.json:
        state = "verified" if result["verified"] else "NOT verified"
        print(f"exported run {args.run} as {result['type']} to {result['path']} "
              f"({result['files']} files, checksums {state})")
    return {"ok": True, **result}


def verify(args: argparse.Namespace) -> dict:

    try:
        result = verify_export(Path(args.folder))
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    if not args.json:
        print(f"{args.folder}: {result.files} files, "
              + ("all match" if result.ok else "PROBLEMS:"))
        for problem in result.problems:
            print(f"  {problem}")
    if not result.ok:
        raise CommandError(f"{args.folder}: {len(result.problems)} file(s) do not match "
                           f"their checksums: {'; '.join(result.problems[:3])}")
    return {"ok": True, "files": result.files}
