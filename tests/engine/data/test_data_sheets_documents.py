"""Excel workbooks and folders of documents import like any table: preview, mapping, quarantine."""

from __future__ import annotations

import pytest

from engine import paths
from engine.data.importer import import_file, preview_file
from engine.data.records import DataFormatError
from engine.store import dataset_stream, open_store, projects


@pytest.fixture
def project():
    db = open_store(paths.workspace_db())
    return db, projects.create(db, "sheets", task="classification")


def _records(db, dataset_id):
    return [r for _, r, _ in dataset_stream.iter_records(db, dataset_id)]


def _workbook(path, header=True):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    cover = book.active
    cover.title = "Cover"
    cover.append(["Exported by the records office"])
    sheet = book.create_sheet("Notes")
    if header:
        sheet.append(["id", "Notes", None, "label"])  # "Notes" merged over two columns
        sheet.merge_cells("B1:C1")
    for i in range(30):
        sheet.append([i, f"Seen today {i}, 5'9\" tall", f"plan {i}" if i % 3 else None,
                      "admit" if i % 2 else "discharge"])
    for row in range(40, 45):  # formatted but empty rows at the end
        sheet.cell(row=row, column=1).font = Font(bold=True)
    book.save(path)
    return path


def test_a_sheet_by_name_with_a_merged_header_and_empty_trailing_rows(tmp_path, project):
    db, pid = project
    path = _workbook(tmp_path / "export.xlsx")
    preview = preview_file(path, "classification", sheet="Notes")
    assert preview.container == "xlsx" and preview.columns == ["id", "Notes", "Notes (2)", "label"]
    summary = import_file(db, pid, path, task="classification", sheet="Notes", test_fraction=0,
                          mapping={"text": "Notes"})
    assert (summary.records, summary.quarantined) == (30, 0)
    first = _records(db, summary.dataset_id)[0]
    assert first["text"] == "Seen today 0, 5'9\" tall" and first["_line"] == 2


def test_a_headerless_sheet_maps_by_position(tmp_path, project):
    db, pid = project
    path = _workbook(tmp_path / "bare.xlsx", header=False)
    preview = preview_file(path, "classification", sheet="Notes")
    assert not preview.header and preview.columns == ["1", "2", "3", "4"]
    summary = import_file(db, pid, path, task="classification", sheet="Notes", test_fraction=0,
                          mapping={"text": "2", "label": "4"})
    assert summary.records == 30


def test_an_unknown_sheet_or_a_broken_workbook_is_refused_by_name(tmp_path):
    path = _workbook(tmp_path / "export.xlsx")
    with pytest.raises(DataFormatError, match="no sheet 'Labs'; its sheets are: Cover, Notes"):
        preview_file(path, "classification", sheet="Labs")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataFormatError, match=r"broken.xlsx, line 1: not a readable Excel"):
        preview_file(broken, "classification")


def _pdf(path, text=None, password=None):
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path))
    if text:
        page.drawString(72, 720, text)
    else:
        page.rect(72, 600, 200, 100, fill=1)  # a scan: an image, no text
    page.save()
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(str(path)))
        writer.encrypt(password, algorithm="RC4-128")
        writer.write(str(path))
    return path


def _docx(path, text):
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    document.save(str(path))
    return path


def _contracts(root):
    for folder in ("indemnity", "termination"):
        (root / folder).mkdir(parents=True)
    (root / "indemnity" / "a.txt").write_text("The Supplier shall indemnify the Buyer.")
    _docx(root / "indemnity" / "b.docx", "Each party holds the other harmless.")
    _pdf(root / "termination" / "c.pdf", "Either party may terminate on 30 days notice.")
    (root / "termination" / "d.md").write_text("# Termination\nFor cause, at once.")
    _pdf(root / "termination" / "scan.pdf")
    _pdf(root / "termination" / "locked.pdf", "secret terms", password="s3cret")
    (root / "indemnity" / "torn.pdf").write_bytes(b"%PDF-1.4\n garbage")
    (root / "indemnity" / "torn.docx").write_bytes(b"PK\x03\x04 garbage")
    return root


def test_a_folder_of_documents_labelled_by_sub_folder(tmp_path, project):
    db, pid = project
    root = _contracts(tmp_path / "contracts")
    preview = preview_file(root, "classification")
    assert preview.mapping == {"text": "text", "label": "label"}
    summary = import_file(db, pid, root, task="classification", test_fraction=0)
    assert (summary.records, summary.quarantined) == (4, 4)
    records = _records(db, summary.dataset_id)
    assert [(r["_source"], r["label"]) for r in records] == [
        ("indemnity/a.txt", "indemnity"), ("indemnity/b.docx", "indemnity"),
        ("termination/c.pdf", "termination"), ("termination/d.md", "termination")]
    assert "terminate on 30 days notice" in records[2]["text"]
    reasons = {q["file"].rsplit("/", 1)[-1]: q["reason"]
               for q in dataset_stream.quarantine_for_project(db, pid)}
    assert "no text layer" in reasons["scan.pdf"] and "password" in reasons["locked.pdf"]
    assert "not a readable PDF" in reasons["torn.pdf"]
    assert "not a readable Word document" in reasons["torn.docx"]
    assert reasons["scan.pdf"].startswith("scan.pdf, file 1:")


def test_documents_for_a_text_task_are_one_record_each(tmp_path, project):
    db, pid = project
    root = _contracts(tmp_path / "contracts")
    summary = import_file(db, pid, root, task="text", test_fraction=0)
    assert summary.records == 4 and summary.container == "text-files"


def test_a_text_file_named_xlsx_and_an_empty_sheet_are_refused_and_nothing_is_written(tmp_path,
                                                                                       project):
    from openpyxl import Workbook

    db, pid = project
    fake = tmp_path / "export.xlsx"
    fake.write_text("text,label\nhello,a\n")
    with pytest.raises(DataFormatError, match="export.xlsx, line 1: not a readable Excel workbook"):
        import_file(db, pid, fake, task="classification")
    empty = tmp_path / "empty.xlsx"
    Workbook().save(empty)
    with pytest.raises(DataFormatError, match="empty.xlsx, line 1: the file holds no records"):
        import_file(db, pid, empty, task="classification")
    assert db.execute("SELECT COUNT(*) FROM datasets").fetchone()[0] == 0
