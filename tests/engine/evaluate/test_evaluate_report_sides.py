"""Reports show every evaluated side: base, tuned and each compressed variant."""

from engine.evaluate.report import metric_table, render_html, sample_sides
from engine.evaluate.report_pdf import _story

SUMMARY = {"items": 1, "test": "notes-test", "contaminated": 0, "source_run": 2,
           "sides": {"base": {"perplexity": 20.0, "rougeL": 0.1},
                     "tuned": {"perplexity": 10.0, "rougeL": 0.3},
                     "tuned 8-bit": {"perplexity": 11.0, "rougeL": 0.3}}}
OUTPUTS = {"tuned 8-bit": "take one tablet daily", "base": "no idea",
           "tuned": "take one tablet twice daily"}


def _data():
    return {"run": {"id": 5, "created_at": "2026-11-26T10:00:00"}, "summary": SUMMARY,
            "items": [{"item": 0, "prompt": "How often?", "reference": "twice daily",
                       "outputs": OUTPUTS}],
            "ratings": {}, "reviews": 0, "agreement": {"exact": None}, "drift": None}


def test_metric_table_has_a_column_per_side_and_verdicts_against_the_right_side():
    header, perplexity = metric_table(SUMMARY)[:2]
    assert header == ["metric", "base", "tuned", "tuned 8-bit", ""]
    assert perplexity == ["perplexity", "20.000", "10.000", "11.000",
                          "tuned better, tuned 8-bit worse"]


def test_samples_mark_tuned_against_base_and_variants_against_tuned():
    assert [(side, against) for side, _, against in sample_sides(OUTPUTS)] == \
        [("base", None), ("tuned", "base"), ("tuned 8-bit", "tuned")]


def test_html_and_pdf_reports_name_the_compressed_variant():
    page = render_html(_data())
    assert "<th>tuned 8-bit</th>" in page and "<del>twice</del>" in page
    tables = [f._cellvalues for f in _story(_data()) if hasattr(f, "_cellvalues")]
    assert tables[0][0] == ["metric", "base", "tuned", "tuned 8-bit", ""]
    sample_rows = [row[0].text for row in tables[1]]
    assert any(text.startswith("<b>tuned 8-bit</b>") for text in sample_rows)
