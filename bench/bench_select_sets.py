"""Labelled proof sets for the selection benchmarks, built from the project's demo generators.

``clinical-topics``: the clinical demo generator's questions, discharge requests and
triage notes, each labelled with the condition or presenting complaint it is about
(18 conditions + 14 complaints = 32 labels, a few dozen rows each). The text is the
prompt only; the label is read from the generated answer, so a question that names only
a drug or a side effect is as ambiguous as it would be in a real inbox.

``legal-mixed``: the legal clause generator with a share of clauses carrying a sentence
of another clause type (10 labels).

    python bench/bench_select_sets.py clinical-topics OUT.jsonl [--rows 1100]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from engine.data.demo_clinical import clinical_record
from engine.data.demo_clinical_terms import COMPLAINTS, CONDITIONS


def _topic(record: dict) -> str:
    """The condition or complaint a generated clinical record is about (from its answer)."""
    response = record["response"]
    if record["kind"] == "triage":
        return next(c.complaint for c in COMPLAINTS if c.assessment in response)
    return next(c.name for c in CONDITIONS if c.explanation.capitalize() in response)


def clinical_topics(rows: int = 1100, seed: int = 0) -> list[dict]:
    """``rows`` distinct ``{"text", "label"}`` records with 32 topic labels."""
    rng = random.Random(seed)
    seen: set[str] = set()
    records: list[dict] = []
    while len(records) < rows:
        record = clinical_record(rng)
        if record["prompt"] in seen:
            continue
        seen.add(record["prompt"])
        records.append({"text": record["prompt"], "label": _topic(record)})
    return records


def write_set(records: list[dict], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=("clinical-topics",))
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1100)
    args = parser.parse_args()
    write_set(clinical_topics(args.rows), args.out)


if __name__ == "__main__":
    main()
