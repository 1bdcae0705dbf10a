"""The recipe of a selection: method, budget, seed and method options, validated."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config import Recipe, RecipeError
from engine.select.methods import AUTO, AUTO_DESCRIPTION, RECIPE_METHODS
from engine.select.scores import SCORES

MIN_PERCENT = 0.5


def _help(text: str, **extra) -> dict:
    return {"help": text, "expert": False, **extra}


@dataclass
class SelectionRecipe(Recipe):
    """How to pick a coreset.

    Raises ``RecipeError`` naming the field for an unknown method, a budget of 0,
    over 100 % or unreadable, a bad k, dedup threshold, score or weight.
    """

    SECTION = "select"

    method: str = field(default=AUTO, metadata=_help(
        f"selection method (auto: {AUTO_DESCRIPTION})", choices=RECIPE_METHODS))
    budget: str | int | float = field(default="10%", metadata=_help(
        "rows to keep: a count (e.g. 200) or a percentage of the dataset (e.g. 5%, down to 0.5%)"))
    seed: int = field(default=0, metadata=_help("random seed; same seed, same selection"))
    k: int | None = field(default=None, metadata=_help("clusters (default: one per selected row)"))
    allocation: str = field(default="proportional", metadata=_help(
        "share of the budget per cluster", choices=("proportional", "equal")))
    embedding: str = field(default="minilm", metadata=_help(
        "embedding model: bundled MiniLM, or the base LLM's mean-pooled hidden states",
        choices=("minilm", "llm")))
    precision: str = field(default="float32", metadata=_help(
        "MiniLM precision: float32, bfloat16 (faster on CPUs with BF16) or int8 (ONNX "
        "Runtime, faster on any CPU; vectors within 0.99 cosine of float32)",
        choices=("float32", "bfloat16", "int8")))
    dedup: float = field(default=0.0, metadata=_help(
        "drop near duplicates at or above this cosine similarity first (0 = off, e.g. 0.95)"))
    quality_score: str = field(default="auto", metadata=_help(
        "score for the quality method", choices=SCORES))
    quality_weight: float = field(default=0.5, metadata=_help(
        "weight of quality against typicality in the quality method (0..1)"))
    knn: int = field(default=20, metadata=_help(
        "neighbours per row in the facility-location graph"))

    def check(self) -> None:
        self.budget = str(self.budget).strip()
        if self.method not in RECIPE_METHODS:
            raise RecipeError(f"method: unknown {self.method!r}; "
                              f"known: {', '.join(RECIPE_METHODS)}")
        parse_budget(self.budget)
        if self.k is not None and self.k < 1:
            raise RecipeError(f"k: must be at least 1, got {self.k}")
        if self.allocation not in ("proportional", "equal"):
            raise RecipeError(f"allocation: must be 'proportional' or 'equal', "
                              f"not {self.allocation!r}")
        if self.embedding not in ("minilm", "llm"):
            raise RecipeError(f"embedding: must be 'minilm' or 'llm', not {self.embedding!r}")
        if self.precision not in ("float32", "bfloat16", "int8"):
            raise RecipeError(f"precision: must be 'float32', 'bfloat16' or 'int8', "
                              f"not {self.precision!r}")
        if not 0.0 <= self.dedup <= 1.0:
            raise RecipeError(f"dedup: must be between 0 (off) and 1, got {self.dedup}")
        if self.quality_score not in SCORES:
            raise RecipeError(f"quality_score: must be one of {', '.join(SCORES)}")
        if not 0.0 <= self.quality_weight <= 1.0:
            raise RecipeError(f"quality_weight: must be between 0 and 1, got {self.quality_weight}")
        if self.knn < 1:
            raise RecipeError(f"knn: must be at least 1, got {self.knn}")



def parse_budget(budget: str | int | float) -> tuple[str, float]:
    """``("percent", p)`` or ``("count", c)`` from ``"5%"``, ``"0.5 %"``, ``200``.

    Raises:
        RecipeError: for 0, a negative value, more than 100 %, or text that is no number.
    """
    text = str(budget).strip().replace(" ", "")
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise RecipeError(f"budget: {budget!r} is neither a count (200) nor a percentage "
                          "(5%)") from None
    if value <= 0:
        raise RecipeError(f"budget: must be above 0, got {budget!r}")
    if percent:
        if value > 100:
            raise RecipeError(f"budget: {budget!r} is above 100 %")
        return "percent", value
    if value != int(value):
        raise RecipeError(f"budget: a count must be a whole number, got {budget!r} "
                          "(write a percentage with %)")
    return "count", value


def resolve_budget(budget: str | int | float, n: int) -> int:
    """Rows to select out of ``n``.

    Raises:
        RecipeError: for an empty dataset, or a count above ``n``.
    """
    if n < 1:
        raise RecipeError("budget: the dataset is empty; there is nothing to select")
    kind, value = parse_budget(budget)
    if kind == "percent":
        return max(1, min(n, round(n * value / 100)))
    if value > n:
        raise RecipeError(f"budget: {int(value)} rows asked for, but the dataset has only {n}")
    return int(value)
