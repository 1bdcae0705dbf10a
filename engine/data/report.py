"""The quality report of a cleaning run as one self-contained HTML file (inline SVG charts).

Texts in the report were already passed through :func:`engine.data.cleaner.safe_text`
when the run was logged, so identifiers appear only as their type.
"""

from __future__ import annotations

import html
from pathlib import Path

STEP_TITLES = {
    "normalise": "Text repaired / normalised (kept)", "empty": "Empty fields (dropped)",
    "language": "Other language (dropped)", "too_short": "Too short (dropped)",
    "too_long": "Too long (dropped)", "redaction": "Identifiers redacted (kept)",
    "exact_duplicate": "Exact duplicates (dropped)",
    "contamination_exact": "Same as a test record (dropped)",
    "contamination_near": "Near duplicate of a test record (dropped)",
    "near_duplicate": "Near duplicates (dropped)",
}


def histogram(before: list[int], after: list[int], bins: int = 20) -> dict:
    """Counts of lengths before and after cleaning over shared bin edges."""
    import numpy as np

    if not before:
        return {"edges": [], "before": [], "after": []}
    top = max(1, int(np.percentile(before, 99)))
    low = min(int(min(before)), top - 1)
    edges = np.linspace(low, top, bins + 1).round().astype(int)
    edges = np.unique(edges)
    clip = lambda v: np.clip(np.asarray(v, dtype=float), low, top)  # noqa: E731
    return {"edges": edges.tolist(),
            "before": np.histogram(clip(before), edges)[0].tolist(),
            "after": np.histogram(clip(after), edges)[0].tolist() if after else [0] * (len(edges) - 1)}


def _bars_svg(series: list[tuple[str, list[int], str]], labels: list[str], width: int = 640,
              height: int = 220) -> str:
    """Grouped bars: one colour per series, one group per label."""
    top = max([max(values, default=0) for _, values, _ in series] + [1])
    groups, gap = max(len(labels), 1), 4
    group_w = (width - 40) / groups
    bar_w = max(1.0, (group_w - gap) / max(len(series), 1))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" '
           f'role="img"><line x1="30" y1="{height}" x2="{width}" y2="{height}" stroke="#888"/>'
           f'<text x="0" y="12" font-size="11">{top:,}</text>']
    for g, label in enumerate(labels):
        x0 = 30 + g * group_w
        for s, (_, values, colour) in enumerate(series):
            value = values[g] if g < len(values) else 0
            h = (height - 20) * value / top
            out.append(f'<rect x="{x0 + s * bar_w:.1f}" y="{height - h:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{colour}"><title>{html.escape(label)}: {value:,}</title></rect>')
        if groups <= 24:
            out.append(f'<text x="{x0:.1f}" y="{height + 14}" font-size="10">{html.escape(label[:12])}</text>')
    legend = "".join(f'<tspan fill="{c}">■ {html.escape(n)}  </tspan>' for n, _, c in series)
    out.append(f'<text x="30" y="{height + 34}" font-size="12">{legend}</text></svg>')
    return "".join(out)


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _sections(report: dict) -> list[str]:
    counts = report["counts"]
    parts = [f"<h2>Counts per step</h2><p>{report['input']['records']:,} training records in, "
             f"{report['output']['records']:,} kept.</p>",
             _table(["Step", "Records"], [[STEP_TITLES.get(k, k), f"{v:,}"] for k, v in counts.items()])]
    lengths = report["lengths"]
    if lengths["edges"]:
        labels = [f"{a}–{b}" for a, b in zip(lengths["edges"], lengths["edges"][1:])]
        parts += [f"<h2>Length ({html.escape(report['length_unit'])}) before and after</h2>",
                  _bars_svg([("before", lengths["before"], "#9aa7b8"),
                             ("after", lengths["after"], "#2b6cb0")], labels)]
    if report.get("labels"):
        labels = report["labels"]
        names = list(labels["before"])
        parts += ["<h2>Labels before and after</h2>",
                  _bars_svg([("before", [labels["before"][n] for n in names], "#9aa7b8"),
                             ("after", [labels["counts"].get(n, 0) for n in names], "#2b6cb0")], names),
                  f"<p>Imbalance (most / least frequent): {labels['imbalance_ratio']}. "
                  f"Rare: {html.escape(', '.join(labels['rare']) or 'none')}. "
                  f"Unknown: {html.escape(', '.join(labels['unknown']) or 'none')}.</p>"]
        if labels.get("suspects"):
            parts += ["<h3>Likely mislabelled (for review; not removed)</h3>",
                      _table(["Line", "Label", "Suggested", "Confidence", "Text"],
                             [[s["line"], s["label"], s["suggested"], s["confidence"], s["text"]]
                              for s in labels["suspects"][:20]])]
    if report["phi_counts"]:
        parts += [f"<h2>Identifiers found (mode: {html.escape(report['redaction'])})</h2>",
                  _table(["Type", "Count"], [[k, f"{v:,}"] for k, v in report["phi_counts"].items()])]
    for step, examples in report["examples"].items():
        parts += [f"<h3>Examples: {html.escape(STEP_TITLES.get(step, step))}</h3>",
                  _table(["Line", "Why", "Text (identifiers shown as their type)"],
                         [[e["line"], e["reason"], e["text"]] for e in examples])]
    if report["clusters"]:
        rows = []
        for cluster in report["clusters"][:20]:
            rows.append(["kept", "", cluster["kept_text"]])
            rows += [[f"line {m['line']}", m["similarity"], m["text"]] for m in cluster["removed"]]
        parts += ["<h2>Near-duplicate clusters (first is kept)</h2>",
                  _table(["Record", "Similarity", "Text"], rows)]
    return parts


def render_html(report: dict, title: str) -> str:
    """The report as one HTML page with no external assets."""
    style = ("body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;"
             "padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}th{background:#eef}")
    body = "".join(_sections(report))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")


def write_html(report: dict, title: str, out: Path) -> Path:
    """Write the report page (atomically) and return its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(render_html(report, title), encoding="utf-8")
    temporary.replace(out)
    return out
