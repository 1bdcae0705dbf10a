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
