"""The import recipe: how a file becomes records (format, table header, sheet, column
mapping) and how much of it is held out for testing."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import Recipe, option
from engine.data.records import TASK_FIELDS

# The one default share held out for testing (command line, window and jobs read it here).
DEFAULT_TEST_FRACTION = 0.1


@dataclass
class ImportRecipe(Recipe):
    """How to read one file or folder into a project."""

    SECTION = "import"

    format: str | None = option(None, "File format; empty: told from the file (jsonl, json, "
                                "csv, tsv, xlsx, text, text-files, parquet, alpaca, sharegpt, "
                                "chat).", label="File format", expert=True)
    task: str | None = option(None, "What the records teach; empty: the project's task.",
                              choices=tuple(TASK_FIELDS), label="Task")
    mapping: dict[str, str] | None = option(None, "Which column holds each field: {field = column}, a "
                                  "column by name or 1-based position; empty: suggested.",
                                  label="Columns", expert=True)
    header: bool | None = option(None, "Tables: whether the first row names the columns; "
                                 "empty: told from the rows.", label="First row is a header",
                                 expert=True)
    sheet: str | None = option(None, "Excel: the sheet to import; empty: the first.",
                               label="Sheet", expert=True)
    test_fraction: float = option(DEFAULT_TEST_FRACTION, "Share of records held out to test "
                                  "the tuned model (0: none); they are never trained on.",
                                  min=0, max=1, max_open=True, label="Held out for testing")
    seed: int = option(0, "Seed of the held-out split; same seed, same split.", min=0,
                       label="Seed", expert=True)
