import json

from engine import paths
from engine.cli import main
from engine.data.records import content_hash
from engine.store import datasets, open_store, projects


def _pool(name: str):
    """A text project ``name`` with a pool of 24 short notes; the workspace store."""
    db = open_store(paths.workspace_db())
    project_id = projects.create(db, name, task="text")
    records = [{"text": f"Note {i}: the patient reports {w} pain."}
               for i, w in enumerate(["mild", "severe", "no", "chest", "back", "knee"] * 4)]
    datasets.add_version(db, project_id, name, "import", records,
                         [content_hash(r, "text") for r in records], role="pool")
    return db


def test_select_command_runs_a_job_and_prints_json(capsys):
    db = _pool("notes")
    assert main(["select", "notes", "--method", "kcenter", "--budget", "25%", "--seed", "1",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["budget"] == 6 and out["method"] == "kcenter"
    assert datasets.get(db, out["dataset_id"])["record_count"] == 6
    assert main(["select", "notes", "--budget", "0", "--json"]) == 1
    assert "budget: must be above 0" in json.loads(capsys.readouterr().out)["error"]
    assert main(["select", "nobody", "--json"]) == 1


def test_the_summary_names_the_reference_groups_the_picks_fall_in(capsys):
    _pool("ward")
    assert main(["select", "ward", "--budget", "6"]) == 0
    out = capsys.readouterr().out
    assert "clusters hit" not in out
    line = next(text for text in out.splitlines() if "reference groups" in text)
    assert "picks in " in line and " of 6 reference groups (a separate k-means of all rows)" in line
