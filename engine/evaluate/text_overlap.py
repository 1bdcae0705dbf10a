"""Overlap scores of generated text against references: BLEU, chrF (sacrebleu), ROUGE.

ROUGE uses a Unicode word tokenizer (lower-cased ``\\w+`` runs) instead of rouge-score's
default, which keeps only ``[a-z0-9]`` and so scores Greek, Cyrillic or accented text as
empty. All scores are corpus-level; ROUGE is the mean F-measure over pairs.
"""

from __future__ import annotations

import re
from typing import Sequence

_WORD = re.compile(r"\w+", re.UNICODE)


class UnicodeWordTokenizer:
    """rouge-score tokenizer that keeps every script: lower-cased ``\\w+`` runs."""

    def tokenize(self, text: str) -> list[str]:
        """Words of ``text``, lower-cased."""
        return _WORD.findall(text.lower())


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} outputs but {len(references)} references")
    if not hypotheses:
        raise ValueError("no outputs to score")


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (sacrebleu defaults: 13a tokenizer, exp smoothing), 0–100.

    Raises:
        ValueError: on mismatched lengths or no pair.
    """
    import sacrebleu

    _check(hypotheses, references)
    return float(sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score)


def chrf(hypotheses: Sequence[str], references: Sequence[str], char_order: int = 6,
         word_order: int = 0) -> float:
    """Corpus chrF (chrF++ with ``word_order=2``), 0–100.

    Raises:
        ValueError: on mismatched lengths or no pair.
    """
    from sacrebleu.metrics import CHRF

    _check(hypotheses, references)
    metric = CHRF(char_order=char_order, word_order=word_order)
    return float(metric.corpus_score(list(hypotheses), [list(references)]).score)


def rouge(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L F-measures (0–1) with a Unicode tokenizer.

    Raises:
        ValueError: on mismatched lengths or no pair.
    """
    from rouge_score import rouge_scorer

    _check(hypotheses, references)
    kinds = ("rouge1", "rouge2", "rougeL")
    scorer = rouge_scorer.RougeScorer(list(kinds), tokenizer=UnicodeWordTokenizer())
    totals = dict.fromkeys(kinds, 0.0)
    for hypothesis, reference in zip(hypotheses, references):
        scores = scorer.score(reference, hypothesis)
        for kind in kinds:
            totals[kind] += scores[kind].fmeasure
    return {kind: value / len(hypotheses) for kind, value in totals.items()}
