"""Counterfactual probes: the same prompt with demographic terms swapped, and how much the
model's answer changes. Also inverse-frequency sample weights per group, for re-weighting
training so that small groups count as much as large ones."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Sequence

from engine.evaluate.generation import generate_answers
from engine.evaluate.text_overlap import chrf

# Each pair is swapped both ways; whole words only, case kept for the first letter.
DEFAULT_SWAPS: list[tuple[str, str]] = [
    ("man", "woman"), ("men", "women"), ("he", "she"), ("his", "her"), ("him", "her"),
    ("father", "mother"), ("son", "daughter"), ("husband", "wife"), ("boy", "girl"),
    ("male", "female"), ("Mr", "Ms"),
]


def swap_terms(text: str, swaps: Sequence[tuple[str, str]] = DEFAULT_SWAPS) -> str:
    """``text`` with each term of ``swaps`` replaced by its partner (both directions)."""
    mapping: dict[str, str] = {}
    for left, right in swaps:
        mapping.setdefault(left.lower(), right.lower())
        mapping.setdefault(right.lower(), left.lower())
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, mapping)) + r")\b", re.IGNORECASE)

    def replace(match: re.Match) -> str:
        word = match.group(0)
        swapped = mapping[word.lower()]
        return swapped.capitalize() if word[0].isupper() else swapped
    return pattern.sub(replace, text)


def counterfactual_probe(model: Any, tokenizer: Any, prompts: Sequence[str], *,
                         swaps: Sequence[tuple[str, str]] = DEFAULT_SWAPS,
                         max_new_tokens: int = 48, batch_size: int = 8) -> dict:
    """Generate for each prompt that mentions a swappable term and for its swapped twin.

    Returns:
        ``{"probed": n, "changed": share of answers that differ, "similarity": mean chrF
        (0–100) between the answer pairs, "examples": up to 5 differing pairs}``.
    """

    pairs = [(p, swap_terms(p, swaps)) for p in prompts]
    pairs = [(a, b) for a, b in pairs if a != b]
    if not pairs:
        return {"probed": 0, "changed": None, "similarity": None, "examples": []}
    records = [{"prompt": text, "response": ""} for pair in pairs for text in pair]
    answers = generate_answers(model, tokenizer, records, max_new_tokens=max_new_tokens,
                               batch_size=batch_size)
    first, second = answers[0::2], answers[1::2]
    differing = [i for i, (a, b) in enumerate(zip(first, second)) if a != b]
    similarity = sum(chrf([a], [b]) if a or b else 100.0
                     for a, b in zip(first, second)) / len(pairs)
    return {"probed": len(pairs), "changed": len(differing) / len(pairs),
            "similarity": similarity,
            "examples": [{"prompt": pairs[i][0], "swapped": pairs[i][1], "answer": first[i],
                          "swapped_answer": second[i]} for i in differing[:5]]}


def group_weights(groups: Sequence[str]) -> list[float]:
    """Inverse-frequency weights, normalised to mean 1: every group weighs the same in total."""
    counts = Counter(groups)
    if not counts:
        return []
    scale = len(groups) / len(counts)
    return [scale / counts[group] for group in groups]
