"""Hyper-parameter search: grid or random trials over recipe fields, each trial a run.

A space file (TOML)::

    base = "smollm2"
    dataset = "clinical"
    [train]                 # fixed settings of every trial
    max_steps = 20
    eval_fraction = 0.1
    [search]
    strategy = "grid"       # or "random"
    trials = 6              # the budget: at most this many runs
    seed = 0
    metric = "eval_loss"    # or "loss_end"; lower is better
    [search.space]
    learning_rate = [1e-4, 2e-4]            # a list: these values
    rank = [8, 16]
    # random only: dropout = {min = 0.0, max = 0.2}, learning_rate = {min = 1e-5, max = 1e-3, log = true}

Every trial's recipe is built (and so validated) before the first one starts.
"""

from __future__ import annotations

import itertools
import math
import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.train.recipe import TrainRecipe

STRATEGIES = ("grid", "random")
METRICS = ("eval_loss", "loss_end")


@dataclass
class SearchSpace:
    """A parsed space file."""

    base: str
    dataset: str | None
    fixed: dict[str, Any]
    space: dict[str, Any]
    strategy: str = "grid"
    trials: int = 8
    seed: int = 0
    metric: str = "eval_loss"
    recipes: list[TrainRecipe] = field(default_factory=list)


def load_space(path: str | Path) -> SearchSpace:
    """Read and check a space file; the trial recipes are built here.

    Raises:
        ValueError: naming the file and the bad key or trial.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    search = data.get("search", {})
    space = SearchSpace(base=str(data.get("base", "smollm2")), dataset=data.get("dataset"),
                        fixed=dict(data.get("train", {})), space=dict(search.get("space", {})),
                        strategy=search.get("strategy", "grid"),
                        trials=search.get("trials", 8), seed=search.get("seed", 0),
                        metric=search.get("metric", "eval_loss"))
    if space.strategy not in STRATEGIES:
        raise ValueError(f"{path} [search] strategy must be grid or random, "
                         f"got {space.strategy!r}")
    if not isinstance(space.trials, int) or space.trials < 1:
        raise ValueError(f"{path} [search] trials must be an integer >= 1")
    if space.metric not in METRICS:
        raise ValueError(f"{path} [search] metric must be one of {', '.join(METRICS)}")
    if not space.space:
        raise ValueError(f"{path} [search.space] names no field to search over")
    for name, values in space.space.items():
        _check_values(path, name, values, space.strategy)
    space.recipes = [TrainRecipe.from_dict({**space.fixed, **overrides},
                                           where=f"{path} trial {index + 1}")
                     for index, overrides in enumerate(trial_overrides(space))]
    return space


def _check_values(path: Path, name: str, values: Any, strategy: str) -> None:
    where = f"{path} [search.space] {name}"
    if isinstance(values, list):
        if not values:
            raise ValueError(f"{where}: empty list")
        return
    if isinstance(values, dict) and strategy == "random":
        if not {"min", "max"} <= set(values) or values["min"] > values["max"]:
            raise ValueError(f"{where}: a range needs min <= max")
        if values.get("log") and values["min"] <= 0:
            raise ValueError(f"{where}: a log range needs min > 0")
        return
    raise ValueError(f"{where}: give a list of values"
                     + (" or {min, max[, log]}" if strategy == "random" else ""))


def _draw(rng: random.Random, values: Any) -> Any:
    if isinstance(values, list):
        return rng.choice(values)
    low, high = values["min"], values["max"]
    if values.get("log"):
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    if isinstance(low, int) and isinstance(high, int):
        return rng.randint(low, high)
    return rng.uniform(low, high)


def trial_overrides(space: SearchSpace) -> list[dict[str, Any]]:
    """The field values of each trial, at most ``space.trials`` of them."""
    names = sorted(space.space)
    if space.strategy == "grid":
        combos = itertools.product(*(space.space[name] for name in names))
        return [dict(zip(names, combo)) for combo in itertools.islice(combos, space.trials)]
    rng = random.Random(space.seed)
    return [{name: _draw(rng, space.space[name]) for name in names}
            for _ in range(space.trials)]


def rank_trials(results: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Trials sorted best first (lower metric); ``best`` marks the winner; failed ones last.

    Args:
        results: dicts with ``trial``, ``state`` and the summary figures.
        metric: ``eval_loss`` (falls back to ``loss_end`` when missing) or ``loss_end``.
    """
    def score(result: dict) -> float:
        value = result.get(metric)
        if value is None:
            value = result.get("loss_end")
        return float(value) if value is not None and result.get("state") == "succeeded" \
            else math.inf

    ranked = sorted(results, key=score)
    for position, result in enumerate(ranked):
        result["rank"] = position + 1
        result["best"] = position == 0 and score(result) < math.inf
    return ranked
