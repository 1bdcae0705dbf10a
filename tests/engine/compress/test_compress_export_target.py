"""Exports never delete what Enclave did not create, and never write into system folders."""

from __future__ import annotations

import pytest

from engine.compress.export import export_model
from engine.compress.recipe import CompressRequestError
from engine.fsutil import UnsafeTarget, write_folder_atomically
from engine.progress import Reporter


def test_a_folder_made_during_the_export_survives(tiny_llama, tmp_path):
    out = tmp_path / "export"

    def user_makes_the_folder() -> bool:  # polled once the model files are written
        if not out.exists():
            out.mkdir()
            (out / "notes.txt").write_text("the user's own notes")
        return False

    with pytest.raises(CompressRequestError, match="already exists.*left as it is"):
        export_model(tiny_llama, out, "safetensors", reporter=Reporter(
            stop_requested=user_makes_the_folder))
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "the user's own notes"
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # no temporary left behind


def test_an_empty_folder_made_meanwhile_is_not_replaced(tmp_path):
    target = tmp_path / "out"

    def write(folder):
        (folder / "weights.bin").write_bytes(b"1")
        target.mkdir()

    with pytest.raises(UnsafeTarget, match="already exists"):
        write_folder_atomically(target, write)
    assert target.is_dir() and not any(target.iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_enclave_owned_folders_can_still_be_replaced(tmp_path):
    target = tmp_path / "best"
    write_folder_atomically(target, lambda f: (f / "a").write_text("old"))
    write_folder_atomically(target, lambda f: (f / "a").write_text("new"), replace=True)
    assert (target / "a").read_text() == "new"
    with pytest.raises(UnsafeTarget, match="already exists"):
        write_folder_atomically(target, lambda f: (f / "a").write_text("newer"))
    assert (target / "a").read_text() == "new"


@pytest.mark.parametrize("out", ["/proc/enclave-export", "/sys/kernel/export", "/dev/shm/export",
                                 "/", "/enclave-export"])
def test_system_targets_are_refused_before_any_work(tiny_llama, out):
    events = []
    with pytest.raises(CompressRequestError, match="system folder|filesystem root"):
        export_model(tiny_llama, out, "safetensors", reporter=Reporter(events.append))
    assert events == []
