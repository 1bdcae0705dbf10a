"""Language of a text, with the offline py3langid model (shipped inside the package)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True)


def detect_language(text: str) -> tuple[str, float]:
    """ISO 639-1 code and probability of the language of a text (its first 2,000 characters)."""
    code, probability = _identifier().classify(text[:2000])
    return code, float(probability)
