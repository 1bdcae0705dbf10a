import json

from engine.cli import main


def _json(capsys, *argv) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_projects_create_list_delete_as_json(capsys):
    assert _json(capsys, "create-project", "Ward A")[1]["project_id"] == 1
    code, out = _json(capsys, "create-project", "Ward A")
    assert code == 1 and out == {"ok": False, "error": "A project named 'Ward A' already exists."}
    assert [p["name"] for p in _json(capsys, "projects")[1]["projects"]] == ["Ward A"]
    assert _json(capsys, "delete-project", "Ward A")[1]["ok"]
    code, out = _json(capsys, "delete-project", "Ward A")
    assert code == 1 and "No project named 'Ward A'" in out["error"]


def test_check_model_refuses_pickled_weights_with_clear_message(capsys, tmp_path):
    folder = tmp_path / "brought"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama",
                                                    "architectures": ["LlamaForCausalLM"]}))
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    code, out = _json(capsys, "check-model", str(folder))
    assert code == 1 and "pytorch_model.bin" in out["error"] and "pickle" in out["error"]


def test_generate_demo_data_writes_both_sets(capsys, tmp_path):
    code, out = _json(capsys, "generate-demo-data", str(tmp_path / "demo"))
    assert code == 0 and out["stats"]["clinical"]["lines"] >= 2000
    assert out["stats"]["legal"]["lines"] >= 1000
    assert (tmp_path / "demo" / "legal_clauses.jsonl").exists()


def test_damaged_workspace_is_reported_with_exit_code_2(capsys, enclave_home):
    enclave_home.mkdir(parents=True, exist_ok=True)
    (enclave_home / "workspace.sqlite3").write_bytes(b"not a database" * 500)
    code, out = _json(capsys, "projects")
    assert code == 2 and "cannot be opened safely" in out["error"]


def test_a_project_named_like_a_command_word_is_a_project(capsys):
    """One spelling per command: `train resume` used to mean "resume run"; now the first
    word after `train` is always a project, and resuming is `train-resume RUN`."""
    assert _json(capsys, "create-project", "resume")[0] == 0
    code, out = _json(capsys, "train", "resume")
    assert code == 1 and "--base MODEL" in out["error"] and "run id" not in out["error"]
    code, out = _json(capsys, "train-resume", "999")
    assert code == 1 and out["error"] == "No training run 999."


def test_every_project_lookup_says_the_same_thing(capsys):
    for argv in (["jobs", "--project", "Nowhere"], ["train-runs", "Nowhere"],
                 ["data", "quarantine", "Nowhere"], ["select", "Nowhere"],
                 ["delete-project", "Nowhere"]):
        code, out = _json(capsys, *argv)
        assert code == 1 and out["error"].startswith("No project named 'Nowhere'."), argv


def test_choices_come_from_the_recipes():
    from engine.cli.parser import build_parser
    from engine.select.recipe import SelectionRecipe
    from engine.train.recipe import METHODS

    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    method = next(a for a in train._actions if a.dest == "method")
    assert method.choices == [*METHODS, "dpo"]
    select = parser._subparsers._group_actions[0].choices["select"]
    embedding = next(a for a in select._actions if a.dest == "embedding")
    assert embedding.default == SelectionRecipe.embedding
