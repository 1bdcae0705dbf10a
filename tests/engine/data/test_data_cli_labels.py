"""`enclave data …` end to end, and the classification checks (rare labels, suspects)."""

import json

from engine import paths
from engine.cli import main
from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.importer import import_file
from engine.data.label_checks import label_findings
from engine.store import open_store, projects


def _run(capsys, *argv):
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_import_clean_report_quarantine_from_the_command_line(tmp_path, capsys):
    data = tmp_path / "qa.csv"
    lines = ["question,answer"] + [f"What is item {i} of the list {i * 3}?,It is number {i}." for i in range(30)]
    data.write_text("\n".join(lines + ["broken,row,here", lines[1]]) + "\n")
    assert main(["create-project", "Clinic"]) == 0
    code, preview = _run(capsys, "data", "import", "Clinic", str(data), "--preview")
    assert preview["preview"]["mapping"] == {"prompt": "question", "response": "answer"}
    code, bad = _run(capsys, "data", "import", "Clinic", str(data), "--map", "response=reply")
    assert code != 0 and "names column 'reply'" in bad["error"] and "nothing was imported" in bad["error"]
    code, imported = _run(capsys, "data", "import", "Clinic", str(data))
    assert code == 0 and imported["records"] == 31 and imported["quarantined"] == 1
    code, cleaned = _run(capsys, "data", "clean", "Clinic", "--set", "tokenizer=words")
    assert code == 0 and cleaned["counts"]["exact_duplicate"] + cleaned["counts"]["contamination_exact"] == 1
    code, report = _run(capsys, "data", "report", "Clinic", "--html", str(tmp_path / "r.html"))
    assert code == 0 and (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    code, quarantine = _run(capsys, "data", "quarantine", "Clinic", "--export", str(tmp_path / "q.jsonl"))
    exported = [json.loads(x) for x in (tmp_path / "q.jsonl").read_text().splitlines()]
    assert quarantine["count"] == 1 and exported[0]["line"] == 32


def test_label_findings_name_rare_unknown_and_imbalance():
    found = label_findings(["a"] * 8 + ["b"] * 2 + ["zz"], {"a", "b"}, min_count=3)
    assert found["rare"] == ["b", "zz"] and found["unknown"] == ["zz"] and found["imbalance_ratio"] == 8.0


def test_mislabelled_records_are_flagged_for_review_not_removed(tmp_path):
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "labels", task="classification")
    cardiac = ["chest pain radiating to the left arm", "palpitations and fast heart beat",
               "shortness of breath with chest tightness", "irregular heart rhythm on the monitor",
               "crushing chest pressure while walking", "heart attack history with angina"]
    skin = ["itchy red rash on both forearms", "dry scaly patches on the elbows",
            "a mole that changed colour", "hives after eating peanuts",
            "acne on the face and back", "sunburn with blistering skin"]
    rows = [{"text": f"{t} (case {i})", "label": "cardiac"} for i in range(3) for t in cardiac]
    rows += [{"text": f"{t} (case {i})", "label": "skin"} for i in range(3) for t in skin]
    rows.append({"text": "sudden chest pain and pounding heart (case 9)", "label": "skin"})
    path = tmp_path / "triage.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    import_file(db, pid, path, task="classification", test_fraction=0)
    report = run_clean(db, pid, CleanRecipe(tokenizer="words", near_dedup=False)).report
    labels = report["labels"]
    assert labels["counts"] == {"cardiac": 18, "skin": 19} and report["output"]["records"] == 37
    assert any("pounding heart" in s["text"] and s["suggested"] == "cardiac" for s in labels["suspects"])
