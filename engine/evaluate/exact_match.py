"""Exact match after normalisation (Unicode NFKC, case, punctuation, articles, spaces)."""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation) | {"“", "”", "‘", "’", "«", "»", "…", "–", "—"}


def normalise_answer(text: str) -> str:
    """NFKC, case-folded, punctuation and English articles removed, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if char in _PUNCTUATION else char for char in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Share (0–1) of outputs equal to their reference after :func:`normalise_answer`.

    Raises:
        ValueError: on mismatched lengths or no pair.
    """
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} outputs but {len(references)} references")
    if not hypotheses:
        raise ValueError("no outputs to score")
    hits = sum(normalise_answer(h) == normalise_answer(r)
               for h, r in zip(hypotheses, references))
    return hits / len(hypotheses)
