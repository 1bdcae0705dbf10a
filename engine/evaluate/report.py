"""One self-contained evaluation report (HTML, or PDF through reportlab).

Sections: metrics base vs tuned, side-by-side samples with the differences marked,
fairness per group (with a bar chart drawn as inline SVG), expert reviews, and the
project's newest drift check. The HTML needs no file or network beside itself.
"""

from __future__ import annotations

import html
from pathlib import Path

import sqlite_utils

from engine.evaluate.compare import side_metric_rows, side_order
from engine.evaluate.display import shown_drift, shown_items
from engine.evaluate.word_diff import diff_html
from engine.models.run_models import get_run
from engine.store import evaluations, runs


def report_data(db: sqlite_utils.Database, eval_run_id: int, samples: int = 8) -> dict:
    """Everything a report shows, gathered from the store.

    Raises:
        ValueError: when the run is not an evaluation run.
    """
    run = get_run(db, eval_run_id)
    if run["kind"] != "evaluate":
        raise ValueError(f"run {eval_run_id} is a '{run['kind']}' run, not an evaluation")
    drift = next((r for r in runs.list_for_project(db, run["project_id"])
                  if r["kind"] == "drift"), None)
    ratings: dict[str, list[int]] = {}
    for review in evaluations.latest_reviews(db, eval_run_id):
        ratings.setdefault(review["side"], []).append(review["rating"])
    return {"run": run, "summary": run["summary"],
            "items": shown_items(db, eval_run_id)[:samples],
            "ratings": {side: sum(v) / len(v) for side, v in ratings.items()},
            "reviews": sum(len(v) for v in ratings.values()),
            "agreement": evaluations.reviewer_agreement(db, eval_run_id),
            "drift": shown_drift(db, run["project_id"], drift["summary"]) if drift else None}


def metric_table(summary: dict) -> list[list[str]]:
    """Header and one row per metric: every side's value, then the verdicts ("tuned better",
    "8-bit worse"; tuned against base, each compressed variant against tuned)."""
    names, rows = side_metric_rows(summary)
    table = [["metric", *names, ""]]
    for row in rows:
        verdicts = ", ".join(f"{side} {word}" for side, word in row["verdicts"].items() if word)
        table.append([row["metric"], *(_fmt(row["values"][n]) for n in names), verdicts])
    return table


def sample_sides(outputs: dict) -> list[tuple[str, str, str | None]]:
    """``(side, answer, compared with)`` in display order: tuned is marked against base, each
    compressed variant against tuned, base against nothing."""
    names = side_order(outputs)
    return [(name, outputs[name], None if name == "base" else
             "base" if name == "tuned" else "tuned") for name in names]


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _bar_svg(values: dict[str, float], width: int = 360) -> str:
    if not values:
        return ""
    top = max(max(values.values()), 1e-9)
    bars = []
    for row, (label, value) in enumerate(values.items()):
        y = row * 24
        bars.append(f'<text x="0" y="{y + 15}" font-size="12">{html.escape(label)}</text>'
                    f'<rect x="120" y="{y + 3}" width="{value / top * (width - 180):.1f}" '
                    f'height="16" fill="#3b7dd8"/><text x="{width - 50}" y="{y + 15}" '
                    f'font-size="12">{value:.3f}</text>')
    return f'<svg width="{width}" height="{24 * len(values)}">{"".join(bars)}</svg>'


def _section_metrics(data: dict) -> str:
    header, *rows = metric_table(data["summary"])
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                    for row in rows)
    s = data["summary"]
    return (f"<h2>Metrics</h2><p>{s.get('items')} test items from {html.escape(str(s.get('test')))}"
            f"; {s.get('contaminated', 0)} left out because they occur in the training data.</p>"
            f"<table><tr>{''.join(f'<th>{html.escape(h)}</th>' for h in header)}</tr>{cells}"
            f"</table>")


def _section_samples(data: dict) -> str:
    parts = ["<h2>Side by side</h2><p>Words added (green) and dropped (red): tuned against "
             "base, each compressed variant against tuned.</p>"]
    for item in data["items"]:
        out = item["outputs"]
        rows = "".join(
            f"<tr><th>{html.escape(side)}</th><td>"
            f"{diff_html(out[against], text) if against in out else html.escape(text)}</td></tr>"
            for side, text, against in sample_sides(out))
        parts.append(f"<div class='item'><b>#{item['item']}</b> {html.escape(item['prompt'])}"
                     f"<table><tr><th>reference</th><td>{html.escape(item['reference'])}</td></tr>"
                     f"{rows}</table></div>")
    return "".join(parts)


def _section_fairness(data: dict) -> str:
    summary = data["summary"]
    fairness = (summary.get("fairness") or {}).get("tuned")
    if not fairness:
        return "<h2>Fairness</h2><p>The test records carry no group field.</p>"
    rows = "".join(f"<tr><td>{html.escape(g)}</td><td>{v.get('count')}</td>"
                   f"<td>{_fmt(v.get('rougeL'))}</td><td>{_fmt(v.get('exact_match'))}</td></tr>"
                   for g, v in fairness["by_group"].items())
    chart = _bar_svg({g: v.get("rougeL", 0.0) for g, v in fairness["by_group"].items()})
    gaps = ", ".join(f"{k} {v:.3f}" for k, v in fairness["difference"].items())
    probe = summary.get("sides", {}).get("tuned", {}).get("counterfactual")
    if probe and probe["probed"]:
        chart += (f"<p>Counterfactual probes: {probe['probed']} prompts; {probe['changed']:.0%} of "
                  f"answers change when demographic terms are swapped (chrF similarity "
                  f"{probe['similarity']:.1f}).</p>")
    return (f"<h2>Fairness by {html.escape(str(summary.get('group_field')))}</h2>"
            f"<table><tr><th>group</th><th>n</th><th>ROUGE-L</th><th>exact match</th></tr>"
            f"{rows}</table><p>Largest gap between groups (tuned): {gaps}</p>{chart}")


def _section_reviews_and_drift(data: dict) -> str:
    ratings = ", ".join(f"{side} {value:.2f}" for side, value in data["ratings"].items())
    agreement = data["agreement"]
    parts = [f"<h2>Expert review</h2><p>{data['reviews']} reviews; mean rating: "
             f"{ratings or '–'}; reviewers agree exactly on {_fmt(agreement['exact'])} "
             f"of shared ratings.</p><h2>Drift</h2>"]
    drift = data["drift"]
    if drift is None:
        parts.append("<p>No drift check yet.</p>")
    else:
        verdict = "DRIFT" if drift["drifted"] else "no drift"
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in drift["reasons"])
        parts.append(f"<p><b>{verdict}</b> in {html.escape(drift['file'])} (embedding AUC "
                     f"{drift['embedding']['auc']:.2f})</p><ul>{reasons}</ul>")
    return "".join(parts)


STYLE = ("body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;"
         "padding:4px 8px;text-align:left;vertical-align:top}ins{background:#c8f0c8;"
         "text-decoration:none}del{background:#f6c6c6}.better{color:#1a7f37}.worse{color:#c62828}"
         ".item{margin:1em 0}")


def render_html(data: dict) -> str:
    """The report as one HTML document."""
    run = data["run"]
    title = f"Evaluation {run['id']} of run {data['summary'].get('source_run')}"
    body = "".join([_section_metrics(data), _section_samples(data), _section_fairness(data),
                    _section_reviews_and_drift(data)])
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
            f"<p>Created {html.escape(run['created_at'])}</p>{body}</body></html>")


def write_html(db: sqlite_utils.Database, eval_run_id: int, out: str | Path) -> Path:
    """Write the HTML report of an evaluation run (atomically) and return its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(render_html(report_data(db, eval_run_id)), encoding="utf-8")
    partial.replace(out)
    return out
