"""A training run on two "machines" of a cluster (machine ranks 0 and 1 on this box, one CPU
process each, gloo), through the real job path with the network walls up: machine 0 is the
`enclave train` job, machine 1 is `enclave train-join`. It follows the run of one machine with
two processes, and its opening is explicit, private-only, recorded and shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.cli import main
from engine.store import audit, open_store

CLUSTER = "127.0.0.1,127.0.0.2"
COMMON = ["--method", "lora", "--max-steps", "4", "--batch-size", "2", "--max-length", "48",
          "--seed", "5", "--set", "dropout=0.0", "--set", "checkpoint_minutes=0"]


@pytest.fixture
def project(capsys, tiny_records):
    from engine import paths
    from engine.store import datasets

    assert main(["create-project", "Ward C", "--json"]) == 0
    project_id = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["project_id"]
    datasets.add_version(open_store(paths.workspace_db()), project_id, "colours", "import",
                         tiny_records, [str(i) for i in range(len(tiny_records))], role="pool")
    return "Ward C"


def _enclave(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *argv], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))


def _cluster_plans(home: Path) -> list[Path]:
    return [plan for plan in home.glob("**/launch/plan.json")
            if json.loads(plan.read_text())["machines"] == 2]


def _join_when_started(home: Path, outcome: dict) -> None:
    """Machine 1: wait for machine 0's plan in the shared run folder, then join its run.

    When joining fails, machine 0's launcher is ended so that its job fails instead of
    waiting for machine 1 forever.
    """
    import psutil

    deadline = time.monotonic() + 240
    while not (plans := _cluster_plans(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    spec = str(plans[0].with_name("spec.json")) if plans else "no plan"
    outcome["done"] = done = _enclave("train-join", spec, "--machine-rank", "1",
                                      "--allow-cluster", CLUSTER)
    if done.returncode:
        for process in psutil.process_iter(["cmdline"]):
            if spec in (process.info["cmdline"] or []) and "torchrun" in process.info["cmdline"]:
                process.kill()


def _free_port() -> str:
    done = subprocess.run([sys.executable, "-c", "from engine.train.launch import free_port; "
                           "print(free_port())"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _losses(db, run_id: int) -> list[float]:
    rows = db["metrics"].rows_where("run_id = ? AND name = 'loss'", [run_id], order_by="step")
    return [row["value"] for row in rows]


def _newest_run(db) -> dict:
    return next(db["runs"].rows_where(order_by="id desc", limit=1))


def test_two_machines_follow_one_machine_with_two_processes(
        capsys, project, tiny_llama_folder, enclave_home):
    from engine import paths

    db = open_store(paths.workspace_db())
    assert main(["train", project, "--base", str(tiny_llama_folder), *COMMON,
                 "--gpus", "2"]) == 0
    one_machine = _newest_run(db)
    capsys.readouterr()

    joined: dict = {}
    machine_1 = threading.Thread(target=_join_when_started, args=(enclave_home, joined))
    machine_1.start()
    code = main(["train", project, "--base", str(tiny_llama_folder), *COMMON, "--gpus", "1",
                 "--machines", "2", "--machine-rank", "0", "--main-address", "127.0.0.1",
                 "--main-port", _free_port(), "--allow-cluster", CLUSTER])
    shown = capsys.readouterr().err
    machine_1.join(timeout=300)
    assert code == 0, shown
    assert joined["done"].returncode == 0, joined["done"].stdout + joined["done"].stderr
    cluster = _newest_run(db)
    assert json.loads(cluster["summary"])["processes"] == 2
    assert _losses(db, cluster["id"]) == pytest.approx(_losses(db, one_machine["id"]),
                                                       rel=2e-3, abs=2e-3)
    assert len(_losses(db, cluster["id"])) == 4

    # Shown in the job's messages and on machine 1's terminal.
    assert "network: this cluster run may reach 127.0.0.1, 127.0.0.2 besides loopback" in shown
    assert "network: this cluster run may reach" in joined["done"].stderr
    # Machine 1's worker raised the audit hook, opened to the two machines only.
    assert "rank 1: network walls: audit hook, opened to 127.0.0.1, 127.0.0.2 and loopback " \
        "only" in joined["done"].stderr
    # The walls were up: machine 0's job process outside the namespace, hook opened to the two.
    job_id = cluster["job_id"]
    log = (enclave_home / "logs" / f"job-{job_id}.log").read_text()
    assert "network walls: audit hook (not entered: a cluster training run opened to " \
           "127.0.0.1, 127.0.0.2" in log
    launcher_log = next(enclave_home.glob(f"**/run-{cluster['id']}/launch/launcher.log"))
    assert "rank 0: network walls: audit hook, opened to 127.0.0.1, 127.0.0.2" \
        in launcher_log.read_text()
    # Recorded in the audit log: machine 0's job and machine 1's join.
    opened = [row for row in audit.entries(db, 50) if row["action"] == "network.cluster_opened"]
    objects = sorted(row["object"].split(":")[0] for row in opened)
    assert objects == ["job", "spec"]
    assert all(json.loads(row["detail"])["addresses"] == ["127.0.0.1", "127.0.0.2"]
               for row in opened)
    assert audit.verify(db) == []


@pytest.mark.parametrize("flags, message", [
    (["--allow-cluster", "127.0.0.1,8.8.8.8"], "8.8.8.8 is not a private address"),
    (["--allow-cluster", "node0,node1"], "'node0' is not a numeric IP address"),
    ([], "must name them with allow_cluster"),
    (["--allow-cluster", "10.0.0.6,10.0.0.7"], "must list the main address 10.0.0.5"),
])
def test_a_cluster_run_must_name_private_machines(capsys, project, tiny_llama_folder, flags,
                                                  message):
    code = main(["train", project, "--base", str(tiny_llama_folder), "--method", "lora",
                 "--machines", "2", "--main-address", "10.0.0.5", "--main-port", "29500",
                 *flags, "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 1 and message in out["error"]
    assert main(["jobs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["jobs"] == []


def test_an_opening_on_one_machine_is_refused(capsys, project, tiny_llama_folder):
    code = main(["train", project, "--base", str(tiny_llama_folder), "--method", "lora",
                 "--gpus", "2", "--allow-cluster", "10.0.0.5", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 1 and "for a run on several machines only" in out["error"]


def test_joining_needs_exactly_the_machines_that_machine_0_named(tmp_path):
    from engine.train.launch import LaunchPlan, join_plan

    plan = LaunchPlan(machines=2, main_address="10.0.0.5", main_port=29500,
                      allow_cluster=["10.0.0.5", "10.0.0.6"])
    (tmp_path / "plan.json").write_text(json.dumps(plan.to_dict()))
    spec = tmp_path / "spec.json"
    assert join_plan(spec, 1, "10.0.0.6,10.0.0.5").machine_rank == 1
    with pytest.raises(ValueError, match="exactly the run's machines"):
        join_plan(spec, 1, "10.0.0.5,10.0.0.6,10.0.0.9")
    with pytest.raises(ValueError, match="not a private address"):
        join_plan(spec, 1, "10.0.0.5,1.1.1.1")
    done = _enclave("train-join", str(spec), "--machine-rank", "1", "--allow-cluster",
                    "10.0.0.5")
    assert done.returncode == 1 and "exactly the run's machines" in done.stderr


NATIVE_CONNECT = """
import ctypes, socket, struct, sys, time
from engine import netwall
netwall.install_audit_hook()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    sock.connect(("198.51.100.1", 9))
    print("python connect went through", flush=True)
except ConnectionError as exc:
    print(f"python connect: {exc}", flush=True)
address = struct.pack("=H", socket.AF_INET) + struct.pack("!H", 9) \\
    + socket.inet_aton("198.51.100.1") + bytes(8)
libc = ctypes.CDLL(None, use_errno=True)
code = libc.connect(sock.fileno(), address, len(address))  # native code: no audit event
print("native connect " + ("done" if code == 0 else f"failed {ctypes.get_errno()}"), flush=True)
time.sleep(120)
"""


def test_a_native_connection_outside_the_cluster_stops_the_run():
    from engine.train import cluster, launch

    process = subprocess.Popen([sys.executable, "-c", NATIVE_CONNECT], stdout=subprocess.PIPE,
                               text=True, start_new_session=True,
                               env={**os.environ, "ENCLAVE_JOB_CLUSTER": "10.0.0.5,10.0.0.6"})
    try:
        python_line, native_line = process.stdout.readline(), process.stdout.readline()
        assert "Enclave is offline: connection to ('198.51.100.1', 9) refused" in python_line
        if "done" not in native_line:
            pytest.skip(f"no route to a documentation address here ({native_line.strip()})")
        assert cluster.ConnectionWatch(["198.51.100.1"]).breach(process.pid) == ""  # listed
        watch = cluster.ConnectionWatch(["10.0.0.5", "10.0.0.6"])
        with pytest.raises(RuntimeError, match=r"connected outside the named machines "
                                               r"\(10.0.0.5, 10.0.0.6\).*-> 198.51.100.1:9"):
            launch._check_connections(watch, process)
        assert process.wait(timeout=20) != 0  # its processes were ended
    finally:
        if process.poll() is None:
            process.kill()


def test_the_runner_grants_the_opening_to_cluster_training_runs_only_and_records_it(project):
    from engine import paths
    from engine.jobs.runner import JobRunner
    from engine.store import jobs, runs

    db = open_store(paths.workspace_db())
    project_id = next(db["projects"].rows)["id"]
    plan = {"machines": 2, "main_address": "10.0.0.5", "main_port": 29500,
            "allow_cluster": ["10.0.0.5", "10.0.0.6"]}
    run_id = runs.create(db, project_id, "train", "cluster run", {"launch": plan})
    runner = JobRunner(paths.workspace_db())
    granted = {
        "new run": jobs.create(db, "train", {"launch": plan}, project_id),
        "resumed run": jobs.create(db, "train", {"run_id": run_id}, project_id),
        "one machine": jobs.create(db, "train", {"launch": {**plan, "machines": 1}}, project_id),
        "other kind": jobs.create(db, "check.offline", {"launch": plan}, project_id),
        "public address": jobs.create(db, "train", {"launch": {
            **plan, "allow_cluster": ["10.0.0.5", "8.8.8.8"]}}, project_id)}
    opened = {name: runner._network_opening(job_id) for name, job_id in granted.items()}
    assert opened == {"new run": ("10.0.0.5", "10.0.0.6"), "resumed run": ("10.0.0.5", "10.0.0.6"),
                      "one machine": (), "other kind": (), "public address": ()}
    rows = [row for row in audit.entries(db, 50) if row["action"] == "network.cluster_opened"]
    assert sorted(row["object"] for row in rows) == sorted(
        f"job:{granted[name]}" for name in ("new run", "resumed run"))
    assert json.loads(rows[0]["detail"])["main_port"] == 29500
