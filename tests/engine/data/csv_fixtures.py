"""Generated CSV exports as hospital and law-firm systems write them (for the dialect tests)."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

HEADER = ["note_id", "age", "height", "history", "plan", "label"]
_HISTORY = ["Patient is 5'9\" tall, 180 lbs; denies chest pain.",
            "Mother's note: \"he's been off\" since Tuesday, eats well",
            "Fell from a 6' ladder; 2\" laceration, sutured",
            "Smoker, 1 pack/day; quit \"cold turkey\" in 2019; O'Brien's sign negative",
            "Height 5'11\"\nWeight 82 kg\nBP 128/84",
            "Reports pain; score 7/10, worse at night",
            "No allergies; lives alone, daughter visits weekly"]
_PLAN = ["Follow up in 2 weeks", "CT head; neuro checks q4h", "Discharge home, \"as tolerated\"",
         "Refer to PT; ice, rest, elevation", "Labs: CBC, BMP, LFTs"]


def clinical_rows(count: int, seed: int = 0, plain_first: int = 0) -> list[list[str]]:
    """``count`` rows of a clinical export: heights with inch marks, quotes beside
    apostrophes, commas, semicolons and line breaks inside fields.

    The first ``plain_first`` rows hold no quote at all (as an export whose early notes
    are short), which is what misled :class:`csv.Sniffer` into a dialect without
    doubled quotes.
    """
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        plain = i < plain_first
        rows.append([str(1000 + i), str(rng.randint(18, 95)),
                     "170 cm" if plain else f"{rng.randint(4, 6)}'{rng.randint(0, 11)}\"",
                     "Seen today, stable" if plain else rng.choice(_HISTORY),
                     rng.choice(_PLAN[-2:] if plain else _PLAN),
                     rng.choice(["admit", "discharge", "observe"])])
    return rows


def write_table(path: Path, rows: list[list[str]], header: list[str] | None = HEADER, *,
                delimiter: str = ",", bom: bool = False, crlf: bool = True,
                trailing: bool = False) -> Path:
    """Write a table as csv.writer does (RFC 4180 quoting) with an export's quirks."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    for row in ([header] if header else []) + rows:
        writer.writerow(row + [""] if trailing else row)
    path.write_bytes((("\ufeff" if bom else "") + out.getvalue()).encode("utf-8"))
    return path
