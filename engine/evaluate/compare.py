"""Which models stand beside the tuned one in an evaluation, and their metrics side by side.

``compare`` is one comma-separated string (the CLI's ``--compare``, the recipe's field):

* ``base``: the base model the run was tuned from;
* ``compressed``: every compressed variant of the run (each ``enclave compress RUN`` result);
* a compression run id (``7``) or a variant label (``8-bit``, ``pruned 30%``): that variant;
* ``none`` (or empty): the tuned model alone.

A compressed side is named ``tuned <label>`` (``tuned 8-bit``): it is the tuned model,
compressed. Its answers are diffed against the tuned model's, as the tuned answers are
against the base model's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import sqlite_utils

from engine.evaluate.sources import ModelSide

METRICS = ["perplexity", "exact_match", "bleu", "chrf", "rouge1", "rouge2", "rougeL"]
LOWER_IS_BETTER = {"perplexity"}
KEYWORDS = ("base", "compressed", "none")


def parse_compare(compare: str | None) -> tuple[bool, list[str]]:
    """``(with_base, variant selectors)`` of a compare string.

    Raises:
        ValueError: on an empty item (``base,,8-bit``).
    """
    if compare is None or compare.strip().lower() in ("", "none"):
        return False, []
    items = [item.strip() for item in compare.split(",")]
    if any(not item for item in items):
        raise ValueError(f"compare {compare!r}: empty item; use e.g. 'base', "
                         "'base,compressed' or 'base,8-bit'")
    return "base" in items, [item for item in items if item.lower() not in ("base", "none")]


def compressed_variants(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """The compressed variants of a run that are still on disk, oldest first.

    Returns:
        ``{"run_id", "label", "method", "path", "dtype"}`` per compression run whose
        source is ``run_id``; classifier variants (not generative) are left out.
    """
    found = []
    for row in db["runs"].rows_where("kind = 'compress'", order_by="id"):
        summary = json.loads(row["summary"] or "{}")
        recipe = json.loads(row["recipe"] or "{}")
        if summary.get("source_run_id", recipe.get("source_run_id")) != run_id or \
                summary.get("task") == "classification":
            continue
        artifact = next(iter(db["artifacts"].rows_where(
            "run_id = ? AND kind = 'compressed-model'", [row["id"]], order_by="id desc")), None)
        if artifact is None or not Path(artifact["path"]).exists():
            continue
        found.append({"run_id": row["id"], "label": summary.get("label") or row["name"],
                      "method": summary.get("method", recipe.get("method")),
                      "path": artifact["path"],
                      "dtype": recipe.get("dtype") if recipe.get("method") == "merge"
                      else "float32"})
    return found


def _pick(variants: list[dict], selector: str, run_id: int) -> list[dict]:
    if selector.lower() == "compressed" and variants:
        return variants
    if selector.isdigit():
        chosen = [v for v in variants if v["run_id"] == int(selector)]
    else:
        chosen = [v for v in variants if v["label"].lower() == selector.lower()]
    if chosen:
        return chosen
    if not variants:
        raise ValueError(f"compare {selector!r}: run {run_id} has no compressed variant yet; "
                         f"compress it first with `enclave compress {run_id} --method ...`")
    known = ", ".join(f"{v['run_id']} ({v['label']})" for v in variants)
    raise ValueError(f"compare: run {run_id} has no compressed variant {selector!r}; "
                     f"its variants: {known}")


def compressed_sides(db: sqlite_utils.Database, run_id: int,
                     selectors: list[str]) -> dict[str, ModelSide]:
    """The compressed sides the selectors name, by side name (``tuned <label>``).

    Raises:
        ValueError: naming a selector that matches no variant, with the variants there are.
    """
    variants = compressed_variants(db, run_id)
    chosen: dict[int, dict] = {}
    for selector in selectors:
        for variant in _pick(variants, selector, run_id):
            chosen[variant["run_id"]] = variant
    labels = [v["label"] for v in chosen.values()]
    sides = {}
    for variant in chosen.values():
        name = f"tuned {variant['label']}"
        if labels.count(variant["label"]) > 1:
            name += f" (run {variant['run_id']})"
        sides[name] = ModelSide(name, Path(variant["path"]), dtype=variant["dtype"],
                                compress_run=variant["run_id"])
    return sides


def side_order(sides: dict) -> list[str]:
    """Side names in display order: base, tuned, then compressed variants."""
    return [n for n in ("base", "tuned") if n in sides] + \
        [n for n in sides if n not in ("base", "tuned")]


def verdict(metric: str, reference: float | None, value: float | None) -> str:
    """"better", "worse" or "" for ``value`` against ``reference``; differences below what
    three decimals show (or 0.1 % of the value) count as equal."""
    if reference is None or value is None or \
            math.isclose(reference, value, rel_tol=1e-3, abs_tol=5e-4):
        return ""
    better = value < reference if metric in LOWER_IS_BETTER else value > reference
    return "better" if better else "worse"


def side_metric_rows(summary: dict) -> tuple[list[str], list[dict]]:
    """Every side's metrics, one row per metric.

    Returns:
        ``(side names, rows)``; a row is ``{"metric", "values": {side: value},
        "verdicts": {side: verdict}}`` where tuned is judged against base and each
        compressed side against tuned.
    """
    sides = summary.get("sides", {})
    names = side_order(sides)
    rows = []
    for metric in METRICS:
        values = {name: sides[name].get(metric) for name in names}
        verdicts = {"tuned": verdict(metric, values.get("base"), values.get("tuned"))}
        for name in names[names.index("tuned") + 1:] if "tuned" in names else []:
            verdicts[name] = verdict(metric, values.get("tuned"), values[name])
        rows.append({"metric": metric, "values": values, "verdicts": verdicts})
    return names, rows


def format_side_table(summary: dict) -> str:
    """The metrics of every side as a plain-text table (verdicts: tuned vs base,
    compressed vs tuned)."""
    names, rows = side_metric_rows(summary)
    width = max([12, *(len(n) for n in names)])
    lines = [f"  {'metric':<12} " + " ".join(f"{n:>{width}}" for n in names)]
    for row in rows:
        cells = []
        for name in names:
            value, mark = row["values"][name], row["verdicts"].get(name, "")
            text = "–" if value is None else f"{value:.3f}"
            cells.append(f"{text + {'better': ' +', 'worse': ' -'}.get(mark, '  '):>{width}}")
        lines.append(f"  {row['metric']:<12} " + " ".join(cells))
    lines.append("  (+ better, - worse: tuned against base"
                 + (", compressed against tuned)" if len(names) > 2 else ")"))
    return "\n".join(lines)


def check_compare(db: sqlite_utils.Database, run_id: int, compare: str | None) -> list[str]:
    """Resolve a compare string before any work; returns the compressed side names.

    Raises:
        ValueError: on a malformed string or a variant the run does not have.
    """
    return list(compressed_sides(db, run_id, parse_compare(compare)[1]))
