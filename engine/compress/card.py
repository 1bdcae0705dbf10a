"""The model card written into every export folder, built from the store."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

INTENDED_USE = (
    "Drafting and answering within the domain of the project's data, on the organisation's "
    "own machines, with a qualified person reviewing every output before it is used.")
LIMITS = (
    "- Trained on a small, organisation-specific data set; it can be confidently wrong.\n"
    "- Not a medical device and not legal advice; never use it for decisions about a person "
    "without human review.\n"
    "- Compression (quantization, pruning, distillation) changes answers; check the quality "
    "figures below against the uncompressed model.\n"
    "- Personal data in the training records may be reproducible from the weights; keep the "
    "export under the same protection as the records.")


def _json_block(value: object) -> str:
    return "```json\n" + json.dumps(value, indent=2, sort_keys=True, default=str) + "\n```"


def _data_versions(db: sqlite_utils.Database, project_id: int) -> list[str]:
    rows = db["datasets"].rows_where("project_id = ?", [project_id], order_by="id")
    return [f"| {r['name']} | {r['version']} | {r['kind']} | {r['record_count']} | "
            f"`{r['content_hash']}` | `{r['recipe']}` |" for r in rows]


def _comparisons(db: sqlite_utils.Database, run_id: int) -> list[str]:
    lines = []
    for row in db["runs"].rows_where("kind = 'compress'", order_by="id"):
        summary = json.loads(row["summary"] or "{}")
        if summary.get("source_run_id") != run_id:
            continue
        for variant in summary.get("variants", []):
            lines.append(f"| {variant['name']} | {variant['size_mb']} | "
                         f"{variant['tokens_per_s']} | {variant['ppl']} |")
    return lines


def model_card(db: sqlite_utils.Database, run: dict, source: Path, base: Path | None,
               export_format: str) -> str:
    """Markdown model card of an exported run.

    Args:
        db: the workspace store.
        run: the run row (recipe and summary decoded).
        source: the model folder exported.
        base: the base model folder, when known.
        export_format: ``safetensors`` or ``gguf`` (with its type).

    Returns:
        The card text.
    """
    parts = [f"# {run['name']} (run {run['id']}, {run['kind']})", "",
             f"- Exported model: `{source}` as {export_format}",
             f"- Base model: `{base or source}`", f"- Created: {run['created_at']}", "",
             "## Intended use", "", INTENDED_USE, "", "## Limits", "", LIMITS, "",
             "## Data versions", "",
             "| name | version | kind | records | content sha256 | recipe |",
             "|---|---|---|---|---|---|", *_data_versions(db, run["project_id"]), "",
             "## Recipe", "", _json_block(run["recipe"]), "",
             "## Evaluation", "", _json_block(run["summary"])]
    comparisons = _comparisons(db, run["id"])
    if comparisons:
        parts += ["", "## Compressed variants", "",
                  "| variant | size MB | tokens/s | perplexity |", "|---|---|---|---|",
                  *comparisons]
    return "\n".join(parts) + "\n"
