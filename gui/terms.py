"""Plain words for the window: a label and a one-line explanation per technical term.

A recipe field's own metadata wins (``label``, ``help``, ``expert``); this table gives the
plain label and the tooltip where the metadata has none, and the Help glossary (F1).
"""

from __future__ import annotations

# term → (plain label, one line in plain language)
TERMS: dict[str, tuple[str, str]] = {
    "lora": ("LoRA (small add-on)", "Teaches a small add-on to the model instead of changing "
             "all of it: fast and light on memory."),
    "qlora": ("QLoRA", "LoRA on a compressed copy of the model: needs even less memory."),
    "epochs": ("Passes over the examples", "How many times the model reads every example."),
    "max_steps": ("Stop after (steps)", "Stop after this many learning steps (0: after the "
                  "passes above)."),
    "learning_rate": ("Learning speed", "How big each correction is: too high and it forgets, "
                      "too low and it learns slowly."),
    "batch_size": ("Examples at once", "How many examples it reads before each correction; "
                   "lower it if memory runs out."),
    "grad_accum": ("Batches per correction", "Reads several batches before correcting: like "
                   "a larger batch, without more memory."),
    "max_length": ("Longest example kept", "Text past this many tokens (word pieces) is cut."),
    "warmup_ratio": ("Gentle start", "Share of the training during which the learning speed "
                     "rises slowly."),
    "rank": ("Add-on size (rank)", "How large the LoRA add-on is: bigger can learn more, "
             "needs more memory."),
    "alpha": ("Add-on strength (alpha)", "How strongly the add-on changes the model's answers."),
    "dropout": ("Forgetting on purpose", "Randomly ignores a few values while learning, so the "
                "model does not just memorise."),
    "eval_fraction": ("Examples kept aside", "Share of examples the model never learns from, "
                      "used to check it is not just memorising."),
    "seed": ("Repeatable choice (seed)", "The same number gives the same result when run again."),
    "near_dedup": ("Remove near copies", "Drops records that are almost the same as an earlier "
                   "one."),
    "near_threshold": ("How alike counts as a copy", "0.8: records sharing about 80% of their "
                       "wording count as copies."),
    "num_perm": ("Copy-check precision", "More: finer comparison of records, slower."),
    "exact_dedup": ("Remove exact copies", "Drops records identical to an earlier one."),
    "redaction": ("Hide personal details", "Replaces names, dates, phone numbers and record "
                  "numbers with placeholders such as [NAME]."),
    "quarantine": ("Set aside", "Records that could not be read, kept apart with the reason."),
    "coreset": ("Representative examples", "A smaller set that covers the same ground as all "
                "your records."),
    "budget": ("How many examples", "A number (200) or a share (25%) of the cleaned records."),
    "kcenter_radius": ("Farthest gap", "How far the least-covered record is from any chosen "
                       "example: smaller is better."),
    "embedding": ("Meaning fingerprint", "A list of numbers that places similar texts close "
                  "together."),
    "loss": ("Mistakes while learning (loss)", "Lower is better: how wrong the model's "
             "guesses are on the examples."),
    "eval_loss": ("Mistakes on kept-aside examples", "Lower is better; if it rises while loss "
                  "falls, the model is memorising."),
    "tokens_per_s": ("Speed (tokens/s)", "Word pieces the computer processes per second."),
    "perplexity": ("Surprise (perplexity)", "How surprised the model is by the right answer: "
                   "lower is better."),
    "rouge": ("Word overlap (ROUGE)", "How many words the answer shares with the expected "
              "answer."),
    "bleu": ("Phrase overlap (BLEU)", "How many short phrases the answer shares with the "
             "expected answer."),
    "exact_match": ("Exactly right", "Share of answers identical to the expected answer."),
    "checkpoint": ("Save point", "A saved state from which training can continue."),
    "gguf": ("GGUF file", "One-file model format used by llama.cpp, Ollama and LM Studio."),
    "safetensors": ("Safetensors folder", "The standard safe format for model weights."),
    "quantize": ("Compress (quantize)", "Stores numbers with fewer bits: smaller and faster, "
                 "slightly less exact."),
    "dpo": ("Learn from preferences (DPO)", "Teaches the model which of two answers your "
            "experts preferred."),
    "contamination": ("Test leak check", "Makes sure test questions are not also in the "
                      "training examples."),
    "drift": ("Change in new data", "Checks whether new records look different from those the "
              "model learned from."),
}


def label(name: str, fallback: str | None = None) -> str:
    """The plain label of a field or term (its name in words when there is none)."""
    entry = TERMS.get(name)
    if entry:
        return entry[0]
    return fallback or name.replace("_", " ").capitalize()


def explain(name: str, fallback: str = "") -> str:
    """The one-line plain explanation of a field or term (``fallback`` when there is none)."""
    entry = TERMS.get(name)
    return entry[1] if entry else fallback


# Fields shown only under "Show all settings" where a recipe's metadata does not say.
EXPERT_FIELDS = frozenset({
    # training
    "grad_accum", "warmup_ratio", "weight_decay", "optimizer", "scheduler", "seed", "alpha",
    "dropout", "target_modules", "use_dora", "gradient_checkpointing", "precision", "packing",
    "eval_every", "early_stopping_patience", "checkpoint_every", "checkpoint_minutes",
    "keep_checkpoints", "max_grad_norm", "logging_every", "init_adapter", "reweight_by",
    "chat_template_fallback", "fused_kernels", "task",
    # cleaning
    "fix_mojibake", "normalise_unicode", "fill_text", "languages", "tokenizer",
    "near_threshold", "num_perm", "mislabel_max_records", "min_label_count",
    "allowed_labels",
    # preference tuning
    "beta", "loss_type", "label_smoothing", "reference_free",
})
