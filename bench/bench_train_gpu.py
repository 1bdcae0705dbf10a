"""GPU training speed and memory: Enclave's loop against transformers' Trainer + peft.

For LoRA and QLoRA (r=16 on the family's attention projections, AdamW, batch 8, max length
512, bf16) on two models — the bundled SmolLM2-135M-Instruct and a ~1.1B Llama built here
from a config with random weights (speed does not depend on the weights) — both trainers run
the same records, encoded by the same chat-template code, for the same number of steps, each
in its own child process. Printed per run: tokens/s (real, non-padding tokens), model FLOPs
utilisation, CUDA peak memory and the loss; then the ratios against Trainer + peft in the same
run (goal: >= 2x tokens/s and <= 0.5x peak memory at the same loss). A JSON summary goes to
bench/results/train_gpu-<gpu name>.json.

    .venv/bin/python bench/bench_train_gpu.py              # on a CUDA machine, ~10 minutes
    .venv/bin/python bench/bench_train_gpu.py --smoke      # CPU, tiny model: checks the script

MFU: model FLOPs per trained token are 6·N for full tuning and 4·N with frozen base weights
(forward 2·N, backward through the activations 2·N, no weight gradients), plus attention
(12·layers·hidden·mean sequence length), over the GPU's dense bf16 peak (--peak-tflops, or
looked up from the GPU's name).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import engine  # noqa: F401  (offline switches before any model library)

sys.path.insert(0, str(Path(__file__).parent))
from bench_train import _model_folder, _records  # noqa: E402

PEAK_TFLOPS = {"H200": 989, "H100": 989, "A100": 312, "L40S": 362, "L40": 181, "A10": 125,
               "RTX 4090": 165, "RTX 6000 Ada": 364, "A6000": 155, "V100": 125}
RESULTS = Path(__file__).parent / "results"


def _llama_1b(target: Path, tokenizer_folder: Path) -> Path:
    """A ~1.1B-parameter Llama (Llama-3.2-1B's shape, SmolLM2's vocabulary), random weights."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if (target / "model.safetensors").is_file():
        return target
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_folder), local_files_only=True)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=2048, intermediate_size=8192,
                         num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
                         max_position_embeddings=2048, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, dtype="bfloat16")
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    staging = target.with_name(target.name + ".tmp")
    model.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
    staging.rename(target)
    return target


def _tiny_llama(target: Path, tokenizer_folder: Path) -> Path:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if (target / "model.safetensors").is_file():
        return target
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_folder), local_files_only=True)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(str(target), safe_serialization=True)
    tokenizer.save_pretrained(str(target))
    return target


def _recipe(method: str, steps: int, batch: int, length: int):
    from engine.train.recipe import TrainRecipe

    return TrainRecipe(method=method, max_steps=steps, batch_size=batch, max_length=length,
                       rank=16, alpha=32, dropout=0.0, seed=0, checkpoint_every=0,
                       checkpoint_minutes=0, precision="auto")


def _run_ours(folder: Path, recipe, records: list[dict]) -> dict:
    from engine.train.loop import train

    with tempfile.TemporaryDirectory() as scratch:
        result = train(folder, records, recipe, Path(scratch) / "adapter")
    return {"train_seconds": result.seconds, "tokens": result.tokens,
            "first_loss": result.first_loss, "last_loss": result.last_loss}


def _trainer_model(folder: Path, recipe, dtype):
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    kwargs = {"local_files_only": True, "dtype": dtype}
    if recipe.method == "qlora":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype)
    model = AutoModelForCausalLM.from_pretrained(str(folder), **kwargs)
    if recipe.method == "qlora":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return get_peft_model(model, LoraConfig(
        r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=recipe.dropout,
        target_modules=recipe.target_modules_for(model.config.model_type),
        task_type="CAUSAL_LM"))


def _run_trainer(folder: Path, recipe, records: list[dict]) -> dict:
    import torch
    from transformers import Trainer, TrainingArguments

    from engine.train.format import EncodedExample, collate, encode_records
    from engine.train.torch_setup import load_instruct_tokenizer

    tokenizer = load_instruct_tokenizer(folder)
    examples = encode_records(tokenizer, records, recipe.max_length)
    dataset = [{"input_ids": e.input_ids, "labels": e.labels} for e in examples]
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    model = _trainer_model(folder, recipe, torch.bfloat16 if bf16 else torch.float32)
    seen = {"tokens": 0}

    def count(module, args, kwargs) -> None:
        if module.training:
            seen["tokens"] += int(kwargs["attention_mask"].sum())

    model.register_forward_pre_hook(count, with_kwargs=True)
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch, per_device_train_batch_size=recipe.batch_size,
            max_steps=recipe.max_steps, learning_rate=recipe.learning_rate,
            lr_scheduler_type=recipe.scheduler, warmup_steps=round(recipe.max_steps * 0.05),
            logging_steps=1, save_strategy="no", report_to="none", seed=recipe.seed,
            use_cpu=not cuda, bf16=bf16, remove_unused_columns=False, disable_tqdm=True,
            dataloader_num_workers=0)
        trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=lambda
                          rows: collate([EncodedExample(r["input_ids"], r["labels"])
                                         for r in rows], tokenizer.pad_token_id))
        output = trainer.train()
    losses = [row["loss"] for row in trainer.state.log_history if "loss" in row]
    return {"train_seconds": output.metrics["train_runtime"], "tokens": seen["tokens"],
            "first_loss": losses[0], "last_loss": losses[-1]}


def _child(args: argparse.Namespace) -> None:
    import torch

    recipe = _recipe(args.method, args.steps, args.batch, args.length)
    records = _records(args.records)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    run = _run_ours if args.child == "ours" else _run_trainer
    stats = run(args.folder, recipe, records)
    stats["wall_seconds"] = time.perf_counter() - started
    stats["peak_mib"] = torch.cuda.max_memory_allocated() / 2**20 \
        if torch.cuda.is_available() else 0.0
    print("RESULT " + json.dumps(stats), flush=True)


def _measure(trainer: str, method: str, folder: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", trainer, "--method", method,
               "--folder", str(folder), "--steps", str(args.steps), "--batch", str(args.batch),
               "--length", str(args.length), "--records", str(args.records)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        return {"error": done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]}
    stats = json.loads(lines[-1][len("RESULT "):])
    stats["tokens_per_s"] = stats["tokens"] / max(stats["train_seconds"], 1e-9)
    return stats


def _model_flops_per_token(folder: Path, method: str, mean_length: float) -> float:
    from engine.models.registry import inspect_folder, read_config

    config = read_config(folder)
    parameters = inspect_folder(folder).parameters
    attention = 12 * config["num_hidden_layers"] * config["hidden_size"] * mean_length
    return (6 if method == "full" else 4) * parameters + attention


def _peak_flops(override: float) -> float:
    import torch

    if override:
        return override * 1e12
    if not torch.cuda.is_available():
        return 0.0
    name = torch.cuda.get_device_name(0)
    found = [tflops for key, tflops in PEAK_TFLOPS.items() if key in name]
    return max(found) * 1e12 if found else 0.0


def _mean_length(folder: Path, args: argparse.Namespace) -> float:
    from engine.train.format import encode_records
    from engine.train.torch_setup import load_instruct_tokenizer

    examples = encode_records(load_instruct_tokenizer(folder), _records(args.records),
                              args.length)
    return sum(len(e.input_ids) for e in examples) / len(examples)


def _report(name: str, method: str, ours: dict, theirs: dict, mfu: tuple) -> dict:
    row = {"model": name, "method": method, "ours": ours, "trainer": theirs}
    if "error" in ours or "error" in theirs:
        print(f"{name:<22}{method:<7} failed: {ours.get('error') or theirs.get('error')}")
        return row
    for label, stats, utilisation in (("enclave", ours, mfu[0]), ("trainer", theirs, mfu[1])):
        print(f"{name:<22}{method:<7}{label:<9}{stats['tokens_per_s']:>10.0f}"
              f"{utilisation:>8.1%}{stats['peak_mib']:>10.0f}"
              f"{stats['first_loss']:>9.3f}→{stats['last_loss']:.3f}")
    row["tokens_per_s_ratio"] = ours["tokens_per_s"] / theirs["tokens_per_s"]
    row["peak_memory_ratio"] = ours["peak_mib"] / theirs["peak_mib"] if theirs["peak_mib"] \
        else None
    memory = f"{row['peak_memory_ratio']:.2f}" if row["peak_memory_ratio"] else "n/a"
    print(f"{'':<29}ours/trainer: tokens/s {row['tokens_per_s_ratio']:.2f} (goal >= 2), "
          f"peak memory {memory} (goal <= 0.5)")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--records", type=int, default=256)
    parser.add_argument("--peak-tflops", type=float, default=0.0)
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny model, 2 steps")
    parser.add_argument("--child", choices=["ours", "trainer"])
    parser.add_argument("--method", default="lora")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        return _child(args)
    import torch

    if not torch.cuda.is_available() and not args.smoke:
        raise SystemExit("bench_train_gpu needs a CUDA GPU (or --smoke to check the script)")
    bundled = _model_folder()
    cache = Path(tempfile.gettempdir()) / "enclave-bench-models"
    cache.mkdir(exist_ok=True)
    if args.smoke:
        args.steps, args.batch, args.length, args.records = 2, 2, 64, 8
        models = {"tiny-llama": _tiny_llama(cache / "tiny-llama", bundled)}
        methods = ("lora",)
    else:
        models = {"SmolLM2-135M": bundled, "llama-1.1B (random)": _llama_1b(cache / "llama-1b",
                                                                            bundled)}
        methods = ("lora", "qlora")
    peak = _peak_flops(args.peak_tflops)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    print(f"{device}; {args.steps} steps, batch {args.batch}, max length {args.length}, "
          f"LoRA r=16; peak {peak / 1e12:.0f} TFLOPS")
    print(f"{'model':<22}{'method':<7}{'trainer':<9}{'tokens/s':>10}{'MFU':>8}"
          f"{'peak MiB':>10}{'loss first→last':>18}")
    rows = []
    for name, folder in models.items():
        mean_length = _mean_length(folder, args)
        for method in methods:
            flops = _model_flops_per_token(folder, method, mean_length)
            ours, theirs = (_measure(t, method, folder, args) for t in ("ours", "trainer"))
            mfu = tuple(s.get("tokens_per_s", 0) * flops / peak if peak else 0.0
                        for s in (ours, theirs))
            rows.append(_report(name, method, ours, theirs, mfu))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"train_gpu-{device.replace(' ', '_')}{'-smoke' if args.smoke else ''}.json"
    out.write_text(json.dumps({"device": device, "steps": args.steps, "batch": args.batch,
                               "max_length": args.length, "rows": rows}, indent=2))
    print(f"summary written to {out}")


if __name__ == "__main__":
    main()
