"""Evaluation outputs (one row per test item and model side) and expert reviews.

Tables ``eval_outputs`` and ``reviews`` come from the evaluation migration. A review rates
one output (1–5), may carry a corrected answer, and says whether it was given blind (model
names hidden) and whether that side was preferred in an A/B comparison.
"""

from __future__ import annotations

import getpass
import json
from typing import Sequence

import sqlite_utils

from engine.store import audit
from engine.store.transactions import transaction


def add_outputs(db: sqlite_utils.Database, run_id: int, rows: Sequence[dict]) -> int:
    """Store generated outputs: dicts with item, side, prompt, reference, output,
    optional group and scores (a dict). Returns how many were stored."""
    items = [{"run_id": run_id, "item": r["item"], "side": r["side"], "prompt": r["prompt"],
              "reference": r.get("reference", ""), "output": r["output"],
              "grp": r.get("group"), "scores": json.dumps(r.get("scores") or {})}
             for r in rows]
    with transaction(db):
        db["eval_outputs"].insert_all(items, batch_size=500)
    return len(items)


def outputs(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """The outputs of an evaluation run, by item then side, with scores decoded."""
    rows = list(db["eval_outputs"].rows_where("run_id = ?", [run_id], order_by="item, side"))
    for row in rows:
        row["scores"] = json.loads(row["scores"] or "{}")
        row["group"] = row.pop("grp")
    return rows


def items_by_side(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """One dict per item: ``{"item", "prompt", "reference", "group", "outputs": {side: text}}``."""
    items: dict[int, dict] = {}
    for row in outputs(db, run_id):
        entry = items.setdefault(row["item"], {"item": row["item"], "prompt": row["prompt"],
                                               "reference": row["reference"],
                                               "group": row["group"], "outputs": {}})
        entry["outputs"][row["side"]] = row["output"]
    return [items[key] for key in sorted(items)]


def add_review(db: sqlite_utils.Database, run_id: int, item: int, side: str, rating: int, *,
               correction: str = "", blind: bool = False, preferred: bool | None = None,
               reviewer: str | None = None) -> int:
    """Store one expert review and return its id.

    Args:
        run_id: the evaluation run.
        item: the test item number.
        side: the model side rated (e.g. ``"base"``, ``"tuned"``), even when shown blind.
        rating: 1 (wrong, harmful) to 5 (correct, ready to use).
        correction: the expert's corrected answer ("" when none).
        blind: whether the model names were hidden while rating.
        preferred: in an A/B comparison, whether this side was preferred.
        reviewer: the OS user by default.

    Raises:
        ValueError: if the rating is outside 1–5 or the output does not exist.
    """
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValueError(f"rating must be an integer from 1 to 5, got {rating!r}")
    if not db["eval_outputs"].count_where("run_id = ? AND item = ? AND side = ?",
                                          [run_id, item, side]):
        raise ValueError(f"run {run_id} has no output for item {item}, side '{side}'")
    row = {"run_id": run_id, "item": item, "side": side, "rating": rating,
           "correction": correction.strip(), "reviewer": reviewer or getpass.getuser(),
           "blind": int(blind), "preferred": None if preferred is None else int(preferred),
           "created_at": audit.now()}
    with transaction(db):
        review_id = db["reviews"].insert(row).last_pk
        audit.record(db, "review.add", f"run:{run_id}", item=item, side=side, rating=rating)
    return review_id


def reviews(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """Reviews of an evaluation run, oldest first."""
    return list(db["reviews"].rows_where("run_id = ?", [run_id], order_by="id"))


def latest_reviews(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """The newest review per (item, side, reviewer)."""
    latest: dict[tuple, dict] = {}
    for row in reviews(db, run_id):
        latest[(row["item"], row["side"], row["reviewer"])] = row
    return list(latest.values())


def reviewer_agreement(db: sqlite_utils.Database, run_id: int) -> dict:
    """Agreement of reviewers on outputs rated by at least two of them.

    Returns:
        ``{"shared": n, "exact": share of equal ratings, "within_one": share of ratings at
        most one apart, "mean_abs_diff"}`` over every pair of reviewers of the same output;
        the shares are ``None`` when no output was rated twice.
    """
    by_output: dict[tuple, list[int]] = {}
    for row in latest_reviews(db, run_id):
        by_output.setdefault((row["item"], row["side"]), []).append(row["rating"])
    pairs = [(a, b) for ratings in by_output.values() if len(ratings) > 1
             for i, a in enumerate(ratings) for b in ratings[i + 1:]]
    if not pairs:
        return {"shared": 0, "exact": None, "within_one": None, "mean_abs_diff": None}
    diffs = [abs(a - b) for a, b in pairs]
    return {"shared": sum(len(r) > 1 for r in by_output.values()),
            "exact": sum(d == 0 for d in diffs) / len(diffs),
            "within_one": sum(d <= 1 for d in diffs) / len(diffs),
            "mean_abs_diff": sum(diffs) / len(diffs)}


def corrected_records(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """Instruction records ``{"prompt", "response"}`` from the newest correction per item."""
    prompts = {row["item"]: row["prompt"] for row in outputs(db, run_id)}
    corrections: dict[int, str] = {}
    for row in reviews(db, run_id):
        if row["correction"]:
            corrections[row["item"]] = row["correction"]
    return [{"prompt": prompts[item], "response": text}
            for item, text in sorted(corrections.items())]


def preference_pairs(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """``{"prompt", "chosen", "rejected"}`` from A/B reviews with a preferred side."""
    items = {entry["item"]: entry for entry in items_by_side(db, run_id)}
    pairs = {}
    for row in reviews(db, run_id):
        if row["preferred"] != 1:
            continue
        entry = items[row["item"]]
        others = [side for side in entry["outputs"] if side != row["side"]]
        if others:
            pairs[(row["item"], row["reviewer"])] = {
                "prompt": entry["prompt"], "chosen": entry["outputs"][row["side"]],
                "rejected": entry["outputs"][others[0]]}
    return list(pairs.values())


def correction_pairs(db: sqlite_utils.Database, run_id: int) -> list[dict]:
    """``{"prompt", "chosen", "rejected"}``: the expert's corrected answer preferred over the
    model output it corrects (the reviewed side), newest correction per item and side."""
    items = {entry["item"]: entry for entry in items_by_side(db, run_id)}
    corrections: dict[tuple[int, str], str] = {}
    for row in reviews(db, run_id):
        if row["correction"]:
            corrections[(row["item"], row["side"])] = row["correction"]
    pairs = []
    for (item, side), text in sorted(corrections.items()):
        output = items[item]["outputs"].get(side, "")
        if output.strip() and output.strip() != text.strip():
            pairs.append({"prompt": items[item]["prompt"], "chosen": text, "rejected": output})
    return pairs


def evaluation_run_ids(db: sqlite_utils.Database, project_id: int) -> list[int]:
    """The ids of a project's evaluation runs that have reviews, oldest first."""
    return [row[0] for row in db.execute(
        "SELECT DISTINCT runs.id FROM runs JOIN reviews ON reviews.run_id = runs.id "
        "WHERE runs.project_id = ? ORDER BY runs.id", [project_id]).fetchall()]
