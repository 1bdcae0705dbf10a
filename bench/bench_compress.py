"""Inference speed and peak memory of quantized variants against the full-precision model.

Each variant of the bundled SmolLM2-135M-Instruct runs in its own child process (so
that peak memory is its own), on the same prompts, one after another in one run:

* fp32 (CPU) or bf16 (CUDA) — the baseline
* bitsandbytes 8-bit (LLM.int8), saved and reloaded from its folder
* bitsandbytes 4-bit NF4 with double quantization, saved and reloaded
* torch dynamic int8 of the linear layers (CPU only)

Reported per variant: load seconds, forward throughput (tokens/s over a batch of
prompts), greedy generation speed (new tokens/s), peak memory (process peak RSS on
CPU, VmHWM; ``torch.cuda.max_memory_allocated`` on CUDA), and ratios to the baseline.

    python bench/bench_compress.py [--tokens 32] [--batch 4] [--length 128]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import engine  # noqa: F401  (offline switches)

PROMPT = ("A patient leaves hospital after a knee operation. Write the discharge advice: "
          "wound care, pain relief, when to call the ward, and follow-up appointments.")
VARIANTS = ["full", "8bit", "4bit-nf4", "torch-dynamic-int8"]


def _load(variant: str, folders: dict) -> object:
    import torch

    from engine.models.loading import load_causal_lm

    if variant == "full":  # bf16 on a CUDA GPU, fp32 on the CPU
        model = load_causal_lm(folders["full"])
        return model.to("cuda") if torch.cuda.is_available() else model
    if variant in ("8bit", "4bit-nf4"):
        return load_causal_lm(folders[variant])
    model = load_causal_lm(folders["full"], dtype="float32")
    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process image (VmHWM). Unlike ru_maxrss it does not
    carry over the parent's peak through fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(variant: str, folders: dict, args: argparse.Namespace) -> dict:
    """Measure one variant in this process; returns its figures."""
    import torch

    from engine.models.loading import load_tokenizer

    cuda = torch.cuda.is_available()
    started = time.perf_counter()
    model = _load(variant, folders)
    load_s = time.perf_counter() - started
    tokenizer = load_tokenizer(folders["full"])
    device = model.get_input_embeddings().weight.device
    ids = tokenizer([PROMPT] * args.batch, return_tensors="pt")["input_ids"]
    ids = ids.repeat(1, args.length // ids.shape[1] + 1)[:, :args.length].to(device)
    with torch.inference_mode():
        model(input_ids=ids[:1, :16])  # warm-up
        started = time.perf_counter()
        model(input_ids=ids)
        forward_s = time.perf_counter() - started
        prompt = ids[:1, :32]
        started = time.perf_counter()
        model.generate(prompt, max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                       do_sample=False, pad_token_id=tokenizer.pad_token_id)
        generate_s = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else _peak_rss_mb()
    return {"variant": variant, "load_s": load_s, "forward_tokens_per_s": ids.numel() / forward_s,
            "generate_tokens_per_s": args.tokens / generate_s, "peak_mb": peak,
            "device": "cuda" if cuda else "cpu"}


def _prepare(workdir: Path) -> dict:
    """The full model folder and the saved 8-bit / 4-bit folders."""
    from engine.compress.quantize import quantize_to_folder
    from engine.compress.recipe import CompressRecipe
    from engine.models.bundled import smollm2_folder

    full = smollm2_folder()
    folders = {"full": str(full)}
    for name, recipe in (("8bit", CompressRecipe(method="quantize-8bit")),
                         ("4bit-nf4", CompressRecipe(method="quantize-4bit"))):
        folders[name] = str(quantize_to_folder(full, workdir / name, recipe))
    return folders


def _run_variant(variant: str, folders: dict, argv: list[str]) -> dict:
    command = [sys.executable, __file__, "--child", variant, "--folders", json.dumps(folders),
               *argv]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"variant": variant, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print(rows: list[dict]) -> None:
    base = rows[0]
    print(f"\nbaseline: {base['variant']} on {base.get('device')}; ratios are variant / baseline")
    print(f"{'variant':<20} {'load s':>7} {'fwd tok/s':>10} {'x':>5} {'gen tok/s':>10} "
          f"{'x':>5} {'peak MB':>8} {'x':>5}")
    for row in rows:
        if "error" in row:
            print(f"{row['variant']:<20} failed: {row['error']}")
            continue
        print(f"{row['variant']:<20} {row['load_s']:>7.2f} {row['forward_tokens_per_s']:>10.1f} "
              f"{row['forward_tokens_per_s'] / base['forward_tokens_per_s']:>5.2f} "
              f"{row['generate_tokens_per_s']:>10.2f} "
              f"{row['generate_tokens_per_s'] / base['generate_tokens_per_s']:>5.2f} "
              f"{row['peak_mb']:>8.0f} {row['peak_mb'] / base['peak_mb']:>5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32, help="new tokens generated")
    parser.add_argument("--batch", type=int, default=4, help="prompts per forward pass")
    parser.add_argument("--length", type=int, default=128, help="tokens per prompt")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folders", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, json.loads(args.folders), args)))
        return
    argv = ["--tokens", str(args.tokens), "--batch", str(args.batch),
            "--length", str(args.length)]
    with tempfile.TemporaryDirectory(prefix="bench-compress-") as tmp:
        folders = _prepare(Path(tmp))
        variants = VARIANTS if not _cuda() else VARIANTS[:3]
        rows = [_run_variant(v, folders, argv) for v in variants]
    print(f"SmolLM2-135M-Instruct, batch {args.batch} x {args.length} tokens forward, "
          f"{args.tokens} new tokens generated; {os.cpu_count()} CPU cores")
    _print(rows)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


if __name__ == "__main__":
    main()
