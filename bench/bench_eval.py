"""Evaluation throughput: batched, length-sorted scoring and generation vs one sample at a time.

Both sides run in the same process on the bundled SmolLM2-135M-Instruct and the same held-out
clinical records:

- perplexity: ``engine.metrics.perplexity`` (batches of records sorted by length) against a
  plain loop that encodes and scores one record per forward pass (how a per-example
  ``evaluate``-style loop does it). The two must give the same mean NLL.
- generation: ``engine.evaluate.generation.generate_answers`` (length-sorted, left-padded
  batches, greedy) against a loop calling ``model.generate`` on one prompt at a time.
  Greedy outputs are compared; float rounding in padded batches may flip a rare token.

    python bench/bench_eval.py [--ppl-samples 1000] [--gen-samples 48] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import engine  # noqa: F401  (offline switches)
from engine.data.demo_clinical import write_clinical
from engine.data.file_records import read_records
from engine.evaluate.generation import generate_answers, prompt_messages
from engine.metrics.perplexity import perplexity
from engine.models.bundled import smollm2_folder
from engine.models.loading import load_causal_lm, load_tokenizer
from engine.train.format import collate, encode_record, token_nll


def held_out_records(count: int, seed: int = 7) -> list[dict]:
    """``count`` clinical records from the seeded demo generator."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clinical.jsonl"
        write_clinical(path, n=max(count * 2, 200), seed=seed)
        records = read_records(path, "instruction").records
    return [{"prompt": r["prompt"], "response": r["response"]} for r in records[:count]]


def naive_perplexity(model, tokenizer, records: list[dict], max_length: int) -> float:
    """One record per forward pass, in file order; returns the mean NLL per answer token."""
    import torch

    total, tokens = 0.0, 0
    with torch.inference_mode():
        for record in records:
            example = encode_record(tokenizer, record, max_length)
            if not example.trained_tokens:
                continue
            batch = collate([example], tokenizer.pad_token_id)
            logits = model(input_ids=batch["input_ids"]).logits
            nll, count = token_nll(logits, batch["labels"])
            total, tokens = total + float(nll), tokens + count
    return total / tokens


def naive_generate(model, tokenizer, records: list[dict], max_new_tokens: int) -> list[str]:
    """``model.generate`` on one prompt at a time."""
    import torch

    answers = []
    with torch.inference_mode():
        for record in records:
            ids = tokenizer.apply_chat_template(prompt_messages(record), add_generation_prompt=True,
                                                return_tensors="pt", return_dict=True)
            output = model.generate(**ids, do_sample=False, max_new_tokens=max_new_tokens,
                                    pad_token_id=tokenizer.pad_token_id)
            answers.append(tokenizer.decode(output[0, ids["input_ids"].shape[1]:],
                                            skip_special_tokens=True).strip())
    return answers


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ppl-samples", type=int, default=1000)
    parser.add_argument("--gen-samples", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()

    import torch

    torch.manual_seed(0)
    folder = smollm2_folder()
    model, tokenizer = load_causal_lm(folder), load_tokenizer(folder)
    records = held_out_records(max(args.ppl_samples, args.gen_samples))
    perplexity(model, tokenizer, records[:4], batch_size=4)  # warm-up

    ours, ours_s = _timed(perplexity, model, tokenizer, records[:args.ppl_samples],
                          max_length=args.max_length, batch_size=args.batch_size)
    naive_nll, naive_s = _timed(naive_perplexity, model, tokenizer,
                                records[:args.ppl_samples], args.max_length)
    n = args.ppl_samples
    print(f"perplexity, {n} records: batched {n / ours_s:.1f} rec/s ({ours_s:.1f} s), "
          f"one at a time {n / naive_s:.1f} rec/s ({naive_s:.1f} s) -> ratio "
          f"{naive_s / ours_s:.2f}x; ppl {ours.ppl:.3f} vs {math.exp(naive_nll):.3f}")

    gen = records[:args.gen_samples]
    batched, gen_s = _timed(generate_answers, model, tokenizer, gen,
                            max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    single, single_s = _timed(naive_generate, model, tokenizer, gen, args.max_new_tokens)
    same = sum(a == b for a, b in zip(batched, single)) / len(gen)
    n = len(gen)
    print(f"generation, {n} prompts x {args.max_new_tokens} new tokens: batched "
          f"{n / gen_s:.2f} prompts/s ({gen_s:.1f} s), one at a time {n / single_s:.2f} "
          f"prompts/s ({single_s:.1f} s) -> ratio {single_s / gen_s:.2f}x; "
          f"identical answers {same:.0%}")


if __name__ == "__main__":
    main()
