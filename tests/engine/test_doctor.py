"""`enclave doctor` and `enclave --version`: real runs, exit codes, the sections."""

import json
import os
import subprocess
import sys
from importlib import metadata

import engine
from engine.cli import main
from engine.store import open_store, schema

SECTIONS = {"enclave", "libraries", "device", "models", "workspace", "disk", "network"}


def _run(*argv, home):
    env = {**os.environ, "ENCLAVE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "engine.cli", *argv], env=env,
                          capture_output=True, text=True, timeout=180)


def test_doctor_real_run_is_healthy_and_proves_jobs_are_offline(enclave_home):
    done = _run("doctor", "--json", home=enclave_home)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["problems"] == 0
    by_label = {(f["section"], f["label"]): f["value"] for f in report["findings"]}
    assert {f["section"] for f in report["findings"]} == SECTIONS
    assert by_label[("enclave", "Enclave")] == engine.__version__
    assert "sha256" in by_label[("models", "SmolLM2-135M-Instruct (GGUF)")]
    assert "12 of 12 attempts to reach the network blocked" in by_label[("network", "job process")]
    assert by_label[("network", "network namespace")].startswith(("active", "not active"))
    assert not (enclave_home / "workspace.sqlite3").exists()  # the proof used a scratch one


def test_doctor_text_names_each_section(enclave_home):
    done = _run("doctor", "--skip", "network", "--skip", "models", home=enclave_home)
    assert done.returncode == 0, done.stdout + done.stderr
    for section in SECTIONS - {"network", "models"}:
        assert f"[{section}]" in done.stdout
    assert done.stdout.rstrip().endswith("All checks passed.")


def _doctor_json(capsys):
    code = main(["doctor", "--json", "--skip", "network", "--skip", "device",
                 "--skip", "models", "--skip", "versions"])
    return code, json.loads(capsys.readouterr().out)


def test_damaged_workspace_is_a_problem_with_what_to_do(capsys, enclave_home):
    enclave_home.mkdir(parents=True, exist_ok=True)
    (enclave_home / "workspace.sqlite3").write_bytes(b"not a database" * 500)
    code, report = _doctor_json(capsys)
    assert code == 1 and report["problems"] == 1
    problem = [f for f in report["findings"] if f["problem"]][0]
    assert problem["label"] == "integrity" and ".bak-v" in problem["fix"]


def test_older_schema_is_reported_as_upgraded_on_open_newer_as_a_problem(capsys, enclave_home):
    path = enclave_home / "workspace.sqlite3"
    db = open_store(path, migrate=False)
    schema.migrate(db, path, target=schema.LATEST - 1)
    db.conn.close()
    code, report = _doctor_json(capsys)
    value = {f["label"]: f["value"] for f in report["findings"]}["schema version"]
    assert code == 0 and f"upgraded to {schema.LATEST}" in value
    db = open_store(path, migrate=False)
    db.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    db.conn.close()
    code, report = _doctor_json(capsys)
    assert code == 1 and "newer Enclave" in report["findings"][2]["problem"]


def test_version_flag_prints_the_installed_version(enclave_home):
    done = _run("--version", home=enclave_home)
    assert done.returncode == 0
    assert done.stdout.strip() == engine.__version__ == metadata.version("enclave")
