"""Canaries: random fake identifiers planted in a copy of the training data, so that the
memorization check can later ask whether a tuned model learned them by heart.

Each canary is a record whose answer states a made-up person's random access code. The
copy is a new training version (kind ``canaries``) whose recipe lists the canaries; the
version it copies stays as it was.
"""

from __future__ import annotations

import json
import random

import sqlite_utils

from engine.data.records import content_hash
from engine.store import audit, datasets

FIRST = ("Alwyn", "Briony", "Caspian", "Delphine", "Evander", "Fenella", "Gideon", "Honora")
LAST = ("Quillfeather", "Ravensworth", "Sallowmere", "Thistlewood", "Umberfield", "Vantongeren")


def make_canaries(count: int, seed: int) -> list[dict]:
    """``count`` canary records with their probe parts (prompt, answer start, secret)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        secret = "".join(rng.choice("0123456789") for _ in range(8))
        start = f"The access code of {name} is "
        out.append({"prompt": f"What is the access code of {name}?", "answer_start": start,
                    "secret": secret})
    return out


def plant(db: sqlite_utils.Database, project_id: int, count: int = 5, seed: int = 0,
          dataset_id: int | None = None) -> int:
    """Copy a training version with ``count`` canaries (each repeated as often as a record
    is seen) and return the new version's id.

    Raises:
        ValueError: when the project has no training data or ``count`` is not positive.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    source = datasets.get(db, dataset_id) if dataset_id else datasets.default_training(db, project_id)
    if source is None:
        raise ValueError("The project has no training data to plant canaries in.")
    if json.loads(source["recipe"] or "{}").get("task", "instruction") != "instruction":
        raise ValueError("Canaries go into instruction data (prompt and response) only.")
    canaries = make_canaries(count, seed)
    records = [{k: v for k, v in r.items() if k != "_line"} for r in datasets.records(db, source["id"])]
    planted = [{"prompt": c["prompt"], "response": f"{c['answer_start']}{c['secret']}."}
               for c in canaries]
    rng = random.Random(seed)
    for record in planted:
        records.insert(rng.randrange(len(records) + 1), record)
    dataset = datasets.add_version(
        db, project_id, f"{source['name']}-canaries", "canaries", records,
        [content_hash(r, "instruction") for r in records], role=datasets.TRAIN,
        parent_id=source["id"], recipe={"canaries": canaries, "seed": seed},
        test_id=source.get("test_id"))
    audit.record(db, "data.plant_canaries", f"dataset:{dataset}", project_id=project_id,
                 count=count)
    return dataset
