"""`enclave data import` with headerless tables, positional columns, Excel sheets and documents."""

import json

from engine.cli import main
from tests.engine.data.csv_fixtures import clinical_rows, write_table


def _run(capsys, *argv):
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_headerless_export_by_position_from_the_command_line(tmp_path, capsys):
    rows = clinical_rows(40)
    rows[5] = rows[5][:4]  # a short row: quarantined, counted
    path = write_table(tmp_path / "ehr.csv", rows, header=None)
    assert main(["create-project", "Ward", "--task", "classification"]) == 0
    capsys.readouterr()
    assert main(["data", "import", "Ward", str(path), "--preview", "--map", "text=4"]) == 0
    shown = capsys.readouterr().out
    assert "no header found: columns are numbered" in shown
    assert "4: Patient is 5'9\" tall" in shown or "4: " in shown
    code, done = _run(capsys, "data", "import", "Ward", str(path), "--map", "text=4",
                      "--map", "label=6", "--test-fraction", "0")
    assert code == 0 and (done["records"], done["quarantined"]) == (39, 1)


def test_header_forced_off_and_a_named_sheet(tmp_path, capsys):
    from openpyxl import Workbook

    named = write_table(tmp_path / "named.csv", clinical_rows(10))
    assert main(["create-project", "Ward", "--task", "classification"]) == 0
    code, done = _run(capsys, "data", "import", "Ward", str(named), "--no-header",
                      "--map", "text=4", "--map", "label=6", "--test-fraction", "0")
    assert code == 0 and done["records"] == 11  # the names row is data when told so
    book = Workbook()
    book.active.title = "Cover"
    sheet = book.create_sheet("Notes")
    sheet.append(["note", "label"])
    for i in range(12):
        sheet.append([f"note {i}", "a" if i % 2 else "b"])
    book.save(tmp_path / "notes.xlsx")
    code, bad = _run(capsys, "data", "import", "Ward", str(tmp_path / "notes.xlsx"),
                     "--sheet", "Labs")
    assert code != 0 and "no sheet 'Labs'; its sheets are: Cover, Notes" in bad["error"]
    code, done = _run(capsys, "data", "import", "Ward", str(tmp_path / "notes.xlsx"),
                      "--sheet", "Notes", "--map", "text=note", "--test-fraction", "0")
    assert code == 0 and (done["records"], done["quarantined"]) == (12, 0)
