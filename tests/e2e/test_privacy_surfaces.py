"""After a redacting clean no planted identifier appears on any surface.

A project imports records with fake names, record numbers, phones, e-mails and dates,
cleans them with redaction, trains a tiny model for two steps, evaluates, is reviewed,
writes its reports and checks a second planted file for drift. Then every visible text
of the real window, the report files and the printed command-line answers are searched.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import sys
import zlib
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

import pytest  # noqa: E402

from engine import paths  # noqa: E402

PATIENTS = [
    ("Zebulon", "Quackenbush", "48213377", "(555) 013-7788", "zebulon.q@example.org",
     "March 14, 1961"),
    ("Philomena", "Wigglesworth", "59302118", "(555) 014-2290", "p.wigglesworth@example.net",
     "July 2, 1987"),
    ("Thaddeus", "Snodgrass", "61174925", "(555) 016-4431", "tsnodgrass@example.com",
     "October 23, 1954"),
    ("Ottoline", "Pennyfeather", "73029561", "(555) 018-9902", "ottoline.p@example.org",
     "January 9, 1978"),
]
NEW_PATIENTS = [
    ("Bartholomew", "Gubbins", "80451236", "(555) 019-3346", "b.gubbins@example.com",
     "May 30, 1949"),
    ("Euphemia", "Crumplehorn", "91826374", "(555) 012-6615", "euphemia.c@example.net",
     "August 11, 1966"),
]
TOPICS = ["asthma review", "knee pain", "blood pressure check", "diabetes follow-up",
          "skin rash", "migraine", "flu vaccine", "sleep problems"]
DETAILS = ["mild symptoms and no fever", "a worse night than usual", "a new prescription to start",
           "a referral letter to the specialist"]


def _identifiers(patients) -> list[str]:
    found = []
    for given, surname, mrn, phone, mail, born in patients:
        found += [given, surname, mrn, phone, phone[6:], mail, mail.split("@")[0], born,
                  born[-4:]]
    return found


PLANTED = _identifiers(PATIENTS) + _identifiers(NEW_PATIENTS)


def _record(topic: str, t: int, patient: tuple, detail: str, kind: str) -> dict:
    given, surname, mrn, phone, mail, born = patient
    return {"prompt": f"Summarise the {topic} visit of patient {given} {surname} (MRN {mrn}), "
                      f"born {born}, who came with {detail}; phone {phone}, e-mail {mail}.",
            "response": f"Mr. {surname} was seen for {topic} (visit {t}) with {detail}. Call "
                        f"{phone} or write to {mail} about MRN {mrn}.",
            "kind": kind}


def planted_records() -> list[dict]:
    """32 records, then 2 exact and 2 near duplicates."""
    out = [_record(topic, t, patient, DETAILS[(t + p) % 4], "clinic" if p % 2 else "ward")
           for t, topic in enumerate(TOPICS) for p, patient in enumerate(PATIENTS)]
    out += [dict(out[3]), dict(out[10])]
    for source in (out[5], out[12]):
        out.append({**source, "response": source["response"].replace("Call", "Please call")})
    return out


def write_import_file(path: Path) -> Path:
    lines = [json.dumps(r) for r in planted_records()]
    lines.insert(7, json.dumps({"prompt": "patient Zebulon Quackenbush, MRN 48213377", "response": 5}))
    lines.insert(20, '{"prompt": "patient Philomena Wigglesworth (MRN 59302118) called, "response')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_drift_file(path: Path) -> Path:
    records = [_record(topic, t, patient, DETAILS[t % 4], "ward")
               for t, topic in enumerate(TOPICS[:6]) for patient in NEW_PATIENTS]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# ----- collecting what is shown ------------------------------------------------------------

def visible_texts(root) -> list[str]:
    """Every text a person can see or hover in a widget tree: labels, buttons, editors,
    combo items, tab titles, tooltips and every cell (display and tooltip) of every model."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QGroupBox,
        QLabel,
        QLineEdit,
        QPlainTextEdit,
        QTabWidget,
        QTextEdit,
        QWidget,
    )

    texts = [root.windowTitle()]
    for widget in [root, *root.findChildren(QWidget)]:
        texts.append(widget.toolTip())
        if isinstance(widget, (QLabel, QLineEdit, QAbstractButton)):
            texts.append(widget.text())
        elif isinstance(widget, (QTextEdit, QPlainTextEdit)):
            texts.append(widget.toPlainText())
        elif isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())] + [widget.currentText()]
        elif isinstance(widget, QTabWidget):
            texts += [widget.tabText(i) for i in range(widget.count())]
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            texts += _model_texts(widget.model())
    return [t for t in texts if t]


def _model_texts(model, parent=None) -> list[str]:
    from PySide6.QtCore import QModelIndex, Qt

    parent = parent or QModelIndex()
    rows, columns = _count(model.rowCount, parent), _count(model.columnCount, parent, 1)
    texts = []
    for row in range(rows):
        for column in range(columns):
            index = model.index(row, column, parent)
            for role in (Qt.DisplayRole, Qt.ToolTipRole):
                value = model.data(index, role)
                if value is not None:
                    texts.append(str(value))
            if column == 0 and _count(model.rowCount, index):
                texts += _model_texts(model, index)
    if not parent.isValid():
        texts += [str(model.headerData(i, Qt.Horizontal)) for i in range(columns)]
    return texts


def _count(method, parent, default: int = 0) -> int:
    try:  # list and table models keep the other count private
        return method(parent)
    except TypeError:
        return default


def pdf_text(path: Path) -> str:
    """The strings drawn by a PDF's content streams (Flate-compressed or not)."""
    data = path.read_bytes()
    parts = []
    for match in re.finditer(rb"stream\r?\n(.*?)\s*endstream", data, re.S):
        raw = match.group(1)
        if raw.rstrip().endswith(b"~>"):  # reportlab: ASCII85, then Flate
            raw = base64.a85decode(raw.strip()[:-2])
        try:
            raw = zlib.decompress(raw)
        except zlib.error:
            pass
        parts += [s.decode("latin-1") for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)", raw)]
    text = " ".join(parts)
    return re.sub(r"\\(.)", r"\1", text)


def leaks(surface: str, text: str) -> list[str]:
    return [f"{surface}: {value!r}" for value in PLANTED if value in text]


# ----- the pipeline ------------------------------------------------------------------------

def _tiny_llama(folder: Path) -> Path:
    path = Path(__file__).parents[1] / "engine" / "train" / "tiny_lm.py"
    spec = importlib.util.spec_from_file_location("enclave_e2e_tiny_lm", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.build_tiny_llama(folder)


def cli(capsys, *argv: str) -> str:
    from engine.cli import main

    assert main(list(argv)) == 0, capsys.readouterr()
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.mark.slow
def test_no_planted_identifier_on_any_surface(tmp_path, capsys, qtbot):
    from engine.jobs.registry import JobContext
    from engine.store import evaluations, open_store, projects, runs
    from engine.train.job import run_train_job

    db = open_store(paths.workspace_db())
    project_id = projects.create(db, "Ward notes")
    source = write_import_file(tmp_path / "notes.jsonl")
    printed = {"import": cli(capsys, "data", "import", "Ward notes", str(source),
                             "--test-fraction", "0.25")}
    printed["clean"] = cli(capsys, "data", "clean", "Ward notes", "--set", "tokenizer='words'",
                           "--set", "redaction='placeholder'")
    base = _tiny_llama(tmp_path / "tiny")
    trained = run_train_job(JobContext(db, None, project_id, {
        "base": str(base), "recipe": {"max_steps": 2, "batch_size": 4, "max_length": 96,
                                      "checkpoint_every": 0}}))
    printed["eval"] = cli(capsys, "eval", str(trained["run_id"]), "--limit", "6",
                          "--max-new-tokens", "8")
    eval_run = next(r for r in runs.list_for_project(db, project_id) if r["kind"] == "evaluate")
    item = evaluations.items_by_side(db, eval_run["id"])[0]
    evaluations.add_review(db, eval_run["id"], item["item"], "tuned", 4, reviewer="expert",
                           correction=item["reference"])
    drift_file = write_drift_file(tmp_path / "new_notes.jsonl")
    printed["eval --test"] = cli(capsys, "eval", str(trained["run_id"]), "--test", str(drift_file),
                                 "--limit", "3", "--max-new-tokens", "8", "--compare", "none")
    printed["drift"] = cli(capsys, "drift", "Ward notes", str(drift_file))
    out = tmp_path / "reports"
    printed["report"] = cli(capsys, "report", str(eval_run["id"]), "--html",
                            str(out / "eval.html"), "--pdf", str(out / "eval.pdf"))
    printed["data report"] = cli(capsys, "data", "report", "Ward notes", "--html",
                                 str(out / "data.html"))
    printed["quarantine"] = cli(capsys, "data", "quarantine", "Ward notes", "--export",
                                str(out / "quarantine.jsonl"))
    printed["quarantine list"] = cli(capsys, "data", "quarantine", "Ward notes")
    printed["preview"] = cli(capsys, "data", "import", "Ward notes", str(drift_file), "--preview")

    found = []
    for name, text in printed.items():
        found += leaks(f"printed by `{name}`", text)
    for name in ("eval.html", "data.html", "quarantine.jsonl"):
        found += leaks(name, (out / name).read_text(encoding="utf-8"))
    pdf = pdf_text(out / "eval.pdf")
    found += leaks("eval.pdf", pdf)
    shown = "\n".join(window_texts(qtbot, project_id, drift_file))
    found += leaks("window", shown)
    assert not found, "planted identifiers shown:\n" + "\n".join(sorted(set(found)))
    for surface in (shown, pdf, (out / "eval.html").read_text(encoding="utf-8")):
        assert "[MRN]" in surface and "Summarise the" in surface  # records are shown, redacted


def window_texts(qtbot, project_id: int, drift_file: Path) -> list[str]:
    """Open the project in the real window, visit every tab, collect what it shows."""
    from gui.app import application, create_main_window

    application()
    window = create_main_window(paths.workspace_db())
    qtbot.addWidget(window)
    window.show()
    try:
        window.open_project(project_id)
        texts = []
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            panel = window.tabs.widget(index)
            if hasattr(panel, "path_edit"):  # the Data tab previews another file
                panel.path_edit.setText(str(drift_file))
                panel.show_preview()
            picker = getattr(panel, "run_combo", None)
            for choice in range(picker.count() if picker is not None else 1):
                if picker is not None:
                    picker.setCurrentIndex(choice)
                qtbot.wait(20)
                texts += visible_texts(window)
        return texts
    finally:
        window.bridge.shutdown(grace_s=0.5)
