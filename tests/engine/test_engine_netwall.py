"""Network walls of job processes: twelve ways out, tried in real job processes.

Every target is a reserved documentation address or a ``.invalid`` name, so a
failing wall contacts nothing real. The walls are only ever raised in child
processes: an audit hook cannot be removed, and this test process must stay as
it is.
"""

import json
import os
import subprocess
import sys
import textwrap
from functools import lru_cache

import pytest

from engine import netprobe
from engine.netwall import HOOK_WALL, NAMESPACE_WALL, is_loopback_host
from engine.netwall_cluster import cluster_opening, parse_addresses
from engine.netwall_programs import is_multiprocessing_bootstrap, judge_program

NO_OLD_GUARD = {"ENCLAVE_BLOCK_NETWORK": "0"}  # test one wall at a time


def _python(script: str, *args: str, **env: str) -> dict:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@lru_cache(maxsize=1)
def _namespace_allowed() -> bool:
    return _python("""
        import json
        from engine.netns import enter_empty_network
        print(json.dumps(enter_empty_network()[0]))
    """)


def _through(probes: dict) -> list[str]:
    return [name for name, item in probes.items() if item["outcome"] != "refused"]


def test_every_probe_is_refused_in_a_real_job_and_loopback_still_works(enclave_home):
    result = netprobe.check_offline()
    assert result["state"] == "succeeded", result["error"]
    assert result["total"] == len(netprobe.PROBES) == 12
    assert _through(result["probes"]) == [] and result["blocked"] == 12
    assert set(result["loopback"].values()) == {"ok"} and result["ok"]
    walls = result["walls"]
    assert HOOK_WALL in walls["walls"] and walls["audit_hook"]
    if _namespace_allowed():
        assert walls["walls"] == [NAMESPACE_WALL, HOOK_WALL] and walls["interfaces"] == ["lo"]
    else:
        assert not walls["namespace"] and walls["namespace_reason"]


def test_the_audit_hook_alone_refuses_every_probe_on_its_numeric_address():
    found = _python("""
        import json
        from engine import netprobe, netwall
        netwall.install_audit_hook()
        print(json.dumps(netprobe.run_here()))
    """, **NO_OLD_GUARD)
    assert _through(found["probes"]) == []
    assert all("Enclave is offline" in item["detail"] for item in found["probes"].values())
    assert "203.0.113.1" in found["probes"]["connect with a bytes address"]["detail"]
    assert "'curl'" in found["probes"]["curl in a subprocess"]["detail"]
    assert set(found["loopback"].values()) == {"ok"}


def test_the_namespace_alone_leaves_no_route_but_keeps_files_and_loopback(tmp_path):
    if not _namespace_allowed():
        pytest.skip("this kernel refuses unprivileged user and network namespaces")
    found = _python("""
        import json, os, shutil, sqlite3, subprocess, sys
        from engine import netns, netprobe
        out = {"entered": netns.enter_empty_network(), "interfaces": netns.interfaces()}
        for name in ("UDP sendto", "socket.connect", "connect with a bytes address"):
            out[name] = netprobe.probe(name)["outcome"]
        curl = shutil.which("curl")
        out["curl"] = curl and subprocess.run([curl, "-s", "--max-time", "5", netprobe.URL]).returncode
        out["loopback"] = netprobe.loopback_checks()
        db = sqlite3.connect(sys.argv[1])
        db.execute("create table t (x)"); db.execute("insert into t values (1)"); db.commit()
        print(json.dumps(out))
    """, str(tmp_path / "w.sqlite3"), **NO_OLD_GUARD)
    assert found["entered"][0] and found["interfaces"] == ["lo"]
    assert found["UDP sendto"] == found["socket.connect"] == "unreachable"
    assert found["connect with a bytes address"] == "unreachable"
    assert found["curl"] in (None, 7)  # 7: curl could not connect
    assert set(found["loopback"].values()) == {"ok"}
    assert (tmp_path / "w.sqlite3").stat().st_uid == os.getuid()  # the user id is kept


def test_switch_turns_the_namespace_off_and_the_hook_still_holds(enclave_home, monkeypatch):
    monkeypatch.setenv("ENCLAVE_JOB_NETNS", "0")
    result = netprobe.check_offline()
    assert result["walls"]["walls"] == [HOOK_WALL]
    assert "ENCLAVE_JOB_NETNS=0" in result["walls"]["namespace_reason"]
    assert result["blocked"] == 12 and result["ok"]


def test_python_children_of_a_job_process_are_walled_too():
    found = _python("""
        import json, multiprocessing, shutil, subprocess, sys
        from multiprocessing import util
        from engine import netprobe, netwall
        from engine.offline import NetworkBlocked
        netwall.seal_job_process()
        out = {}
        with multiprocessing.get_context("forkserver").Pool(1) as pool:
            out["forkserver worker"] = pool.apply(netprobe.probe, ("UDP sendto",))["outcome"]
        child = subprocess.run([sys.executable, "-m", "engine.netprobe"], capture_output=True,
                               text=True, check=True)
        probes = json.loads(child.stdout)["probes"]
        out["engine module child"] = sorted({item["outcome"] for item in probes.values()})
        for name, attempt in (
                ("python -c", lambda: subprocess.run([sys.executable, "-c", "import urllib"])),
                ("spawnv_passfds", lambda: util.spawnv_passfds(
                    shutil.which("curl") or "/usr/bin/curl", ["curl", "http://203.0.113.1:9/"], ()))):
            try:
                attempt()
                out[name] = "ran"
            except NetworkBlocked as exc:
                out[name] = str(exc)
        print(json.dumps(out))
    """, **NO_OLD_GUARD)
    assert found["forkserver worker"] == "refused"
    assert found["engine module child"] == ["refused"]
    assert "running Python with" in found["python -c"]
    assert "running 'curl'" in found["spawnv_passfds"]


def test_loopback_is_judged_on_the_numeric_address():
    for host in ("127.0.0.1", "127.8.9.10", "::1", "localhost", b"127.0.0.1", "LOCALHOST."):
        assert is_loopback_host(host), host
    for host in ("192.0.2.1", b"203.0.113.1", "example.invalid", "127.1", "0x7f000001",
                 "::ffff:192.0.2.1", "", None, 2130706433, "0.0.0.0"):
        assert not is_loopback_host(host), host


def test_programs_are_judged_against_an_allowlist():
    python = sys.executable
    allowed = [
        (python, [python, "-m", "engine.jobs.child", "w.sqlite3", "1"]),
        (None, [python, "-B", "-s", "-W", "error", "-X", "utf8", "-m", "engine.cli"]),
        (python, [python, "-c", "from multiprocessing.forkserver import main; "
                  "main(5, 6, ['__main__'], **{'sys_path': ['/x'], 'main_path': None})"]),
        (python, [python, "-c", "from multiprocessing.spawn import spawn_main; "
                  "spawn_main(tracker_fd=5, pipe_handle=7)", "--multiprocessing-fork"]),
        ("/usr/bin/nvidia-smi", ["nvidia-smi", "--query-gpu=name"]),
    ]
    for executable, argv in allowed:
        assert judge_program(executable, argv) == "", argv
    refused = [
        (None, ["curl", "http://203.0.113.1/"]), ("/bin/sh", ["sh", "-c", "ls"]),
        (None, ["wget", "x"]), (None, ["nc", "203.0.113.1", "9"]), (None, ["ssh", "host"]),
        (python, [python, "-c", "import urllib.request"]), (python, [python, "-m", "pip"]),
        (python, [python, "script.py"]), (python, [python, "-m", "engineering"]),
        (python, [python, "-c", "from multiprocessing.spawn import spawn_main; "
                  "spawn_main(__import__('os').system('curl x'))"]),
    ]
    for executable, argv in refused:
        assert judge_program(executable, argv), argv
    assert not is_multiprocessing_bootstrap("from multiprocessing.spawn import spawn_main; "
                                            "spawn_main(); import urllib")


CLUSTER = {"ENCLAVE_JOB_CLUSTER": "10.0.0.5,10.0.0.6"}


def test_a_cluster_opening_admits_the_named_machines_and_nothing_else():
    found = _python("""
        import json, socket, subprocess, sys
        from engine import netprobe, netwall
        out = {"walls": netwall.seal_job_process()}
        for host in ("10.0.0.6", "10.0.0.7", "192.168.1.6"):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:  # a UDP connect sends nothing: it only picks the peer
                    sock.connect((host, 9))
                    out[host] = "admitted"
                except OSError as exc:
                    out[host] = netprobe.judge(exc)
        out["lookup"] = netprobe.run_probe(lambda: socket.getaddrinfo("10.0.0.5", 9))["outcome"]
        out["reverse"] = netprobe.run_probe(lambda: socket.gethostbyaddr("10.0.0.5"))["outcome"]
        out["probes"] = netprobe.run_here()["probes"]
        child = subprocess.run([sys.executable, "-m", "engine.netwall"], capture_output=True,
                               text=True, check=True)
        out["child"] = json.loads(child.stdout)
        print(json.dumps(out))
    """, **CLUSTER, **NO_OLD_GUARD)
    walls = found["walls"]
    assert walls["walls"] == [HOOK_WALL] and not walls["namespace"]
    assert walls["opened_to"] == ["10.0.0.5", "10.0.0.6"]
    assert "not entered: a cluster training run opened to 10.0.0.5, 10.0.0.6" \
        in walls["namespace_reason"]
    assert found["10.0.0.6"] in ("admitted", "through")  # through: no route here
    assert found["10.0.0.7"] == found["192.168.1.6"] == "refused"
    assert found["lookup"] == "through"  # a numeric address is parsed, not looked up
    assert found["reverse"] == "refused"  # a reverse lookup would ask a name server
    assert _through(found["probes"]) == []  # every other address stays refused
    assert found["child"]["opened_to"] == ["10.0.0.5", "10.0.0.6"]  # Python children too


def test_an_opening_that_is_not_private_or_not_numeric_opens_nothing():
    found = _python("""
        import json
        from engine import netwall
        print(json.dumps(netwall.seal_job_process()))
    """, ENCLAVE_JOB_CLUSTER="10.0.0.5,8.8.8.8", **NO_OLD_GUARD)
    assert found["opened_to"] == []
    if _namespace_allowed():
        assert found["namespace"]


def test_only_a_training_run_on_several_machines_that_names_them_is_opened():
    plan = {"machines": 2, "main_address": "10.0.0.5", "allow_cluster": ["10.0.0.5", "fd00::6"]}
    assert cluster_opening("train", plan) == ("10.0.0.5", "fd00::6")
    assert cluster_opening("check.offline", plan) == ()
    assert cluster_opening("train.dpo", plan) == ()
    assert cluster_opening("train", {**plan, "machines": 1}) == ()
    assert cluster_opening("train", {**plan, "allow_cluster": []}) == ()
    assert cluster_opening("train", {**plan, "allow_cluster": ["10.0.0.5", "8.8.8.8"]}) == ()
    assert cluster_opening("train", {**plan, "main_address": "10.0.0.9"}) == ()
    assert cluster_opening("train", None) == ()
    for address in ("10.1.2.3", "172.16.0.1", "192.168.9.9", "127.0.0.2", "169.254.3.4",
                    "fe80::1", "fd12:3456::1", "::1"):
        assert parse_addresses(address) == (address,)
    for address in ("8.8.8.8", "172.32.0.1", "100.64.0.1", "203.0.113.1", "2001:db8::1",
                    "0.0.0.0", "node0.hospital.local"):
        with pytest.raises(ValueError, match="not a private address|not a numeric"):
            parse_addresses(address)


def test_ordinary_jobs_stay_fully_walled_whatever_their_params_or_environment(
        enclave_home, monkeypatch):
    monkeypatch.setenv("ENCLAVE_JOB_CLUSTER", "10.0.0.5,10.0.0.6")  # never inherited
    plan = {"launch": {"machines": 2, "main_address": "10.0.0.5", "main_port": 29500,
                       "allow_cluster": ["10.0.0.5", "10.0.0.6"]}}
    result = netprobe.check_offline(params=plan)
    assert result["ok"] and result["blocked"] == 12
    assert result["walls"]["opened_to"] == []
    if _namespace_allowed():
        assert result["walls"]["walls"] == [NAMESPACE_WALL, HOOK_WALL]
