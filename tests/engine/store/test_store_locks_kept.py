"""Two jobs in one process leave a new workspace whole. Reading the workspace header with
open()/close() while a connection of the same process is open drops that process's POSIX
locks, and a job process then wrote under its readers: the file came out "malformed"."""

import json

from engine import paths
from engine.cli import main
from engine.store import keys, open_store


def test_import_then_two_cleans_in_one_process(tmp_path, capsys):
    data = tmp_path / "qa.csv"
    data.write_text("question,answer\n" + "".join(f"What is item {i}?,It is {i}.\n"
                                                  for i in range(30)))
    assert main(["create-project", "Clinic"]) == 0
    for argv in (["data", "import", "Clinic", str(data)],
                 ["data", "clean", "Clinic", "--set", "tokenizer=words"],
                 ["data", "clean", "Clinic", "--set", "tokenizer=words"]):
        assert main([*argv, "--json"]) == 0, capsys.readouterr()
        assert json.loads(capsys.readouterr().out.splitlines()[-1])["ok"]
    db = open_store(paths.workspace_db())
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_plain_workspace_is_not_read_again_once_open(tmp_path, monkeypatch):
    path = tmp_path / "w.sqlite3"
    open_store(path)
    monkeypatch.setattr(keys, "_read_header", lambda p: (_ for _ in ()).throw(
        AssertionError("the header was read while a connection is open")))
    open_store(path, check=False)
