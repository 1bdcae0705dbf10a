"""The evaluation report as PDF, drawn with reportlab (pure Python, no system libraries)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import sqlite_utils

from engine.evaluate.report import _fmt, metric_table, report_data, sample_sides
from engine.evaluate.word_diff import diff_words


def _diff_markup(before: str, after: str) -> str:
    pieces = {"same": "{}", "ins": '<font color="#1a7f37"><b>{}</b></font>',
              "del": '<font color="#c62828"><strike>{}</strike></font>'}
    return " ".join(pieces[op].format(escape(text)) for op, text in diff_words(before, after))


def _table(rows: list[list], header: bool = True):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, hAlign="LEFT")
    style = [("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke))
    table.setStyle(TableStyle(style))
    return table


def _story(data: dict) -> list:
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, Spacer

    styles = getSampleStyleSheet()
    summary = data["summary"]
    story = [Paragraph(f"Evaluation {data['run']['id']} of run {summary.get('source_run')}",
                       styles["Title"]),
             Paragraph(f"{summary.get('items')} test items from {escape(str(summary.get('test')))}; "
                       f"{summary.get('contaminated', 0)} left out (in training data).",
                       styles["Normal"]), Spacer(1, 8), Paragraph("Metrics", styles["Heading2"]),
             _table(metric_table(summary))]
    story.append(Paragraph("Side by side", styles["Heading2"]))
    for item in data["items"]:
        out = item["outputs"]
        rows = [[Paragraph(f"#{item['item']} {escape(item['prompt'])}", styles["Normal"])],
                [Paragraph(f"<b>reference</b> {escape(item['reference'])}", styles["Normal"])]]
        rows += [[Paragraph(f"<b>{escape(side)}</b> " + (_diff_markup(out[against], text)
                                                         if against in out else escape(text)),
                            styles["Normal"])] for side, text, against in sample_sides(out)]
        story.append(_table(rows, False))
        story.append(Spacer(1, 6))
    fairness = (summary.get("fairness") or {}).get("tuned")
    if fairness:
        story += [Paragraph(f"Fairness by {escape(str(summary.get('group_field')))}",
                            styles["Heading2"]),
                  _table([["group", "n", "ROUGE-L", "exact match"]] +
                         [[g, v.get("count"), _fmt(v.get("rougeL")), _fmt(v.get("exact_match"))]
                          for g, v in fairness["by_group"].items()])]
    drift = data["drift"]
    story.append(Paragraph("Drift", styles["Heading2"]))
    story.append(Paragraph("No drift check yet." if drift is None else
                           ("DRIFT: " + "; ".join(map(escape, drift["reasons"])))
                           if drift["drifted"] else "No drift.", styles["Normal"]))
    return story


def write_pdf(db: sqlite_utils.Database, eval_run_id: int, out: str | Path) -> Path:
    """Write the PDF report of an evaluation run (atomically) and return its path."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    SimpleDocTemplate(str(partial), pagesize=A4, title="Enclave evaluation").build(
        _story(report_data(db, eval_run_id)))
    partial.replace(out)
    return out
