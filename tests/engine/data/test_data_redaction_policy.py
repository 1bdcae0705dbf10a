"""Redaction policies per project: what each replaces, when it may change, the dry run."""

import json

import pytest

from engine import paths
from engine.cli import main
from engine.data.clean_recipe import CleanRecipe
from engine.data.clean_run import run_clean
from engine.data.importer import import_file
from engine.data.phi.policy import PolicyError, detect_for
from engine.data.privacy import project_redactor
from engine.data.redaction_policy import dry_run, project_policy, set_project_policy
from engine.store import dataset_stream, open_store, projects, schema

HISTORY = "King Henry II fought on 14 October 1066 near Hastings."
CONTACT = "Contact Maria Lindqvist at maria.12@mail.com or (555) 123-4567 on 03/04/2020."
CASE = "Plaintiff Mr. Smith of 12 Elm Street filed Case No. 2021-CV-123456 on March 3, 2020."


def _kinds(text, policy):
    return [s.kind for s in detect_for(text, policy)]


def test_each_policy_replaces_its_own_types():
    assert _kinds(HISTORY, "clinical") == ["NAME", "DATE"]
    assert _kinds(HISTORY, "general") == []  # history is not a person in the data
    assert _kinds(CONTACT, "general") == ["NAME", "EMAIL", "PHONE"]
    assert "DATE" in _kinds(CONTACT, "clinical")
    assert _kinds(CASE, "legal") == ["NAME", "ADDRESS", "CASE_NUMBER"]
    assert _kinds(CASE, "off") == []
    with pytest.raises(PolicyError, match="expected one of clinical, legal, general, off"):
        detect_for(CASE, "strict")


def test_projects_made_before_policies_keep_every_type(tmp_path):
    db = open_store(tmp_path / "old.sqlite3", migrate=False)
    schema.migrate(db, target=schema.LATEST - 1)
    db.execute("INSERT INTO projects (name, task) VALUES ('Ward', 'instruction')")
    db.conn.commit()
    schema.migrate(db)
    assert project_policy(db, 1) == "clinical"


@pytest.fixture
def imported(tmp_path):
    db = open_store(paths.workspace_db())
    pid = projects.create(db, "Archive", task="text")
    path = tmp_path / "notes.jsonl"
    lines = [HISTORY, CONTACT, CASE] * 4
    path.write_text("".join(json.dumps({"text": f"{line} ({i})"}) + "\n"
                            for i, line in enumerate(lines)))
    import_file(db, pid, path, task="text", test_fraction=0)
    return db, pid


def _texts(db, dataset_id):
    return [r["text"] for _, r, _ in dataset_stream.iter_records(db, dataset_id)]


def test_a_general_clean_keeps_history_and_replaces_contacts(imported):
    db, pid = imported
    set_project_policy(db, pid, "general")
    outcome = run_clean(db, pid, CleanRecipe(near_dedup=False, tokenizer="words"))
    texts = _texts(db, outcome.train_id)
    assert texts[0].startswith("King Henry II fought on 14 October 1066")
    assert "[EMAIL]" in texts[1] and "maria.12" not in texts[1] and "03/04/2020" in texts[1]
    assert outcome.report["redaction_policy"] == "general"
    with pytest.raises(PolicyError, match="already cleaned under the 'general' policy"):
        set_project_policy(db, pid, "clinical")
    assert project_redactor(db, pid)(HISTORY) == HISTORY


def test_policy_off_replaces_nothing_and_nothing_is_redacted_on_display(imported):
    db, pid = imported
    set_project_policy(db, pid, "off")
    outcome = run_clean(db, pid, CleanRecipe(near_dedup=False, tokenizer="words"))
    assert any("maria.12@mail.com" in t for t in _texts(db, outcome.train_id))
    assert project_redactor(db, pid) is None


def test_the_dry_run_counts_per_type_and_shows_no_raw_identifier(imported):
    db, pid = imported
    dataset_id = db.execute("SELECT MAX(id) FROM datasets").fetchone()[0]
    clinical = dry_run(db, pid, dataset_id)
    assert clinical.records == 12 and clinical.counts["EMAIL"] == 4
    assert clinical.counts["DATE"] == 12 and clinical.counts["NAME"] == 12
    shown = json.dumps(clinical.to_dict())
    for raw in ("Lindqvist", "maria.12", "123-4567", "2021-CV-123456", "Elm Street"):
        assert raw not in shown
    assert any("[EMAIL]" in example for example in clinical.examples["EMAIL"])
    general = dry_run(db, pid, dataset_id, policy="general")
    assert "DATE" not in general.counts and general.counts["NAME"] == 8


def test_policy_from_the_command_line(tmp_path, capsys):
    def run(*argv):
        code = main([*argv, "--json"])
        return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    path = tmp_path / "notes.jsonl"
    path.write_text("".join(json.dumps({"text": f"{CONTACT} {i}"}) + "\n" for i in range(6)))
    code, made = run("create-project", "Desk", "--task", "text", "--redaction-policy", "general")
    assert code == 0 and made["redaction_policy"] == "general"
    assert run("data", "import", "Desk", str(path), "--test-fraction", "0")[0] == 0
    code, shown = run("data", "clean", "Desk", "--dry-run")
    assert code == 0 and shown["dry_run"]["counts"] == {"NAME": 6, "EMAIL": 6, "PHONE": 6}
    assert "Lindqvist" not in json.dumps(shown)
    code, changed = run("data", "policy", "Desk", "legal")
    assert code == 0 and changed["redaction_policy"] == "legal"


def test_general_policy_keeps_its_precision_on_general_text():
    from engine.data.phi.benchmark import overall, score
    from engine.data.phi.general_bench import generate_general

    texts = generate_general(300, seed=1)
    general, clinical = (overall(score(texts, p)) for p in ("general", "clinical"))
    assert general["precision"] >= 0.95 and general["recall"] >= 0.8
    assert clinical["precision"] < 0.7  # clinical replaces every date and name of history
