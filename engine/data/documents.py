"""A folder of documents: one record per file (.txt, .md, .docx, .pdf).

Each record holds the document's ``text``, its ``source`` (the path inside the
folder) and, for a file inside a sub-folder, a ``label``: the sub-folder's name
(contracts sorted into folders by clause type become a classification set). Word
files are read with python-docx (paragraphs, then table cells), PDF files with
pypdf's text layer. A PDF without a text layer (a scan), a password-protected or
a corrupt file is a :class:`RecordError` naming the file and why; the rest import.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Iterator

from engine.data.encodings import text_lines
from engine.data.records import DataFormatError, RawRow, RecordError

SUFFIXES = (".txt", ".md", ".docx", ".pdf")


class _Unreadable(Exception):
    """A document whose text cannot be taken out (the message says why)."""


def iter_documents(folder: Path, encoding: str | None = None) -> Iterator[RawRow | RecordError]:
    """One row per document in a folder and its sub-folders, in path order.

    Args:
        folder: The folder.
        encoding: The codec of the text files, or None to detect it per file.

    Raises:
        DataFormatError: If the folder holds no document of a known kind, or a text file
            in it is not text (or not a regular file).
    """
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if not p.is_dir() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise DataFormatError(folder, 1, "the folder holds no documents "
                                         "(.txt, .md, .docx or .pdf files)")
    for path in files:
        relative = path.relative_to(folder)
        try:
            text = document_text(path, encoding).strip()
        except _Unreadable as exc:
            yield RecordError(str(path), 1, None, str(exc), unit="file")
            continue
        row = {"text": text, "source": relative.as_posix()}
        if len(relative.parts) > 1:
            row["label"] = relative.parts[-2]
        yield RawRow(1, row, unit="file")


def document_text(path: Path, encoding: str | None = None) -> str:
    """The text of one document.

    Raises:
        _Unreadable: If the file is corrupt, locked by a password or holds no text layer.
        DataFormatError: If a text file is not text.
    """
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return _docx_text(path)
    if suffix == ".pdf":
        return _pdf_text(path)
    return "".join(line for _, line in text_lines(path, encoding) if line is not None)


def _docx_text(path: Path) -> str:
    import docx
    from docx.opc.exceptions import OpcError

    try:
        document = docx.Document(str(path))
    except (OpcError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _Unreadable(f"not a readable Word document ({type(exc).__name__}); "
                          "save it again as .docx") from None
    parts = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _Unreadable("the PDF is protected by a password; save an unprotected copy")
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except _Unreadable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise _Unreadable(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not text.strip():
        raise _Unreadable("the PDF has no text layer (a scanned image?); run text recognition "
                          "(OCR) on it first")
    return text
