"""The encrypted workspace: real SQLCipher files, read back byte by byte."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from engine import paths
from engine.jobs.runner import JobRunner
from engine.store import encryption, jobs, keys, open_store, projects
from engine.store.keys import PassphraseRequired, WrongPassphrase

MRN = "MRN-5550123"


def _workspace_bytes(path) -> bytes:
    return b"".join(item.read_bytes() for item in path.parent.glob(path.name + "*"))


def _plant(path) -> None:
    db = open_store(path)
    projects.create(db, "Ward 7", f"patient {MRN}")
    db.conn.close()


def test_new_encrypted_workspace_is_unreadable_without_the_passphrase():
    path = paths.workspace_db()
    encryption.create(path, "correct horse battery staple")
    _plant(path)
    assert not path.read_bytes().startswith(b"SQLite format 3")
    assert MRN.encode() not in _workspace_bytes(path)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT * FROM projects").fetchall()
    keys.forget(path)
    with pytest.raises(PassphraseRequired):
        open_store(path)
    encryption.unlock(path, "correct horse battery staple")
    assert projects.find(open_store(path), "Ward 7")["description"] == f"patient {MRN}"


def test_encrypt_converts_in_place_and_leaves_no_plain_copy():
    path = paths.workspace_db()
    _plant(path)
    assert MRN.encode() in _workspace_bytes(path)  # before: in clear
    result = encryption.encrypt(path, "a long passphrase")
    assert result["rows"] > 0
    assert MRN.encode() not in b"".join(p.read_bytes() for p in path.parent.iterdir()
                                        if p.is_file())
    assert sorted(p.name for p in path.parent.iterdir() if p.is_file()) == [path.name]
    keys.forget(path)
    encryption.unlock(path, "a long passphrase")
    assert projects.find(open_store(path), "Ward 7") is not None


def test_wrong_passphrase_is_a_clear_error_and_changes_nothing():
    path = paths.workspace_db()
    encryption.create(path, "right one")
    _plant(path)
    keys.forget(path)
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase, match="does not open the workspace"):
        encryption.unlock(path, "wrong one")
    with pytest.raises(WrongPassphrase):
        encryption.rekey(path, "wrong one", "new one")
    assert path.read_bytes() == before and keys.key_for(path) is None


def test_rekey_changes_the_passphrase():
    path = paths.workspace_db()
    encryption.create(path, "old phrase")
    _plant(path)
    encryption.rekey(path, "old phrase", "new phrase")
    keys.forget(path)
    with pytest.raises(WrongPassphrase):
        encryption.unlock(path, "old phrase")
    encryption.unlock(path, "new phrase")
    assert projects.find(open_store(path), "Ward 7") is not None


def test_migration_backups_are_encrypted_too():
    path = paths.workspace_db()
    _plant(path)
    backup = path.with_name(path.name + ".bak-v5")
    open_store(path).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backup.write_bytes(path.read_bytes())
    encryption.encrypt(path, "phrase")
    assert keys.is_encrypted(backup) and MRN.encode() not in backup.read_bytes()


def test_job_process_gets_the_key_through_a_pipe():
    path = paths.workspace_db()
    encryption.create(path, "phrase for jobs")
    open_store(path)
    runner = JobRunner(path)
    job = runner.submit("test.count", {"n": 20, "delay": 0.05})
    secret = keys.key_for(path).hex().encode()
    proc = Path(f"/proc/{runner._procs[job].pid}")
    seen = [(proc / part).read_bytes() for part in ("cmdline", "environ") if proc.exists()]
    row = runner.wait(job, timeout=60)
    assert row["state"] == jobs.SUCCEEDED, row["error"]
    log = paths.home() / "logs" / f"job-{job}.log"
    assert all(secret not in blob for blob in [*seen, log.read_bytes()])
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_files_and_folders_are_owner_only():
    path = paths.workspace_db()
    _plant(path)
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(path.parent) == 0o700
    for item in path.parent.glob(path.name + "*"):
        assert mode(item) == 0o600, item
    (paths.project_dir(1) / "weights").mkdir()
    assert mode(paths.project_dir(1) / "weights") == 0o700


_OPENED: list[str] = []
_WATCH = {"on": False}


def _record_opens(event, args):
    if _WATCH["on"] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


def test_opening_the_store_again_never_opens_the_file_beside_sqlite():
    """Closing any descriptor of a database file drops every POSIX lock this process holds
    on it, and another process may then write under SQLite's feet ("database disk image is
    malformed"): once the workspace is known, telling whether it is encrypted must not open
    it again."""
    import sys

    sys.addaudithook(_record_opens)
    setups = (lambda path: None, lambda path: encryption.create(path, "phrase"))
    for number, setup in enumerate(setups):
        path = paths.home() / f"workspace-{number}.sqlite3"
        setup(path)
        held = open_store(path)
        projects.create(held, "Ward")
        _OPENED.clear()
        _WATCH["on"] = True
        try:
            for _ in range(3):
                open_store(path, migrate=False, check=False).conn.close()
        finally:
            _WATCH["on"] = False
        assert str(path) not in _OPENED
        held.conn.close()


def test_doctor_tells_an_encrypted_workspace_from_a_damaged_one():
    from engine.doctor import check_workspace

    path = paths.workspace_db()
    encryption.create(path, "doctor phrase")
    _plant(path)
    found = {f.label: f for f in check_workspace(path)}
    assert found["integrity"].value == "ok" and "encrypted" in found["encryption"].value
    keys.forget(path)
    found = {f.label: f for f in check_workspace(path)}
    assert "integrity" not in found and "passphrase" in found["encryption"].value


def test_job_channel_of_an_encrypted_workspace_is_encrypted_too():
    """Progress messages may carry text (the chat job streams answers through them)."""
    from engine.progress import Progress
    from engine.store.channel import JobChannel, path_for

    path = paths.workspace_db()
    encryption.create(path, "channel phrase")
    open_store(path)
    channel = JobChannel(path)
    channel.started(1, os.getpid())
    channel.event(1, Progress(stage="chat", step=1, total=2, message=f"answer about {MRN}"))
    assert channel.events_after(1, 0)[0]["message"] == f"answer about {MRN}"
    second = JobChannel(path)  # another connection (another thread or process) reads it
    assert second.live([1])[1]["message"] == f"answer about {MRN}"
    blob = b"".join(p.read_bytes() for p in path.parent.glob(path_for(path).name + "*"))
    assert MRN.encode() not in blob
    assert not path_for(path).read_bytes().startswith(b"SQLite format 3")
    with pytest.raises(sqlite3.Error):  # callers catch the standard errors
        channel.conn.execute("SELECT nothing FROM nowhere")
