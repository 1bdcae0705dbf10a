"""Encrypted export archives: AES-256-GCM chunks, scrypt key, tamper and truncation found."""

from __future__ import annotations

import os
import stat

import pytest

from engine.compress import sealed
from engine.compress.sealed import SealError, open_archive, seal_folder

SECRET = b"MRN 77123456 Perpetua Vanterpool"


@pytest.fixture
def export(tmp_path):
    folder = tmp_path / "tuned-model"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(os.urandom(3 * sealed.CHUNK + 17) + SECRET)
    (folder / "sub" / "card.md").write_bytes(SECRET)
    return folder


def test_round_trip_keeps_every_byte_and_hides_them(export, tmp_path):
    archive = seal_folder(export, tmp_path / "out.enclave-sealed", "export phrase")
    blob = archive.read_bytes()
    assert SECRET not in blob and blob.startswith(sealed.MAGIC)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    opened = open_archive(archive, tmp_path / "opened", "export phrase")
    assert opened.name == "tuned-model"
    for name in ("model.safetensors", "sub/card.md"):
        assert (opened / name).read_bytes() == (export / name).read_bytes()


def test_wrong_passphrase_writes_nothing(export, tmp_path):
    archive = seal_folder(export, tmp_path / "out.enclave-sealed", "right")
    with pytest.raises(SealError, match="Wrong passphrase"):
        open_archive(archive, tmp_path / "opened", "wrong")
    assert not (tmp_path / "opened").exists()


@pytest.mark.parametrize("damage", ["flip", "cut"])
def test_changed_or_cut_archive_is_refused(export, tmp_path, damage):
    archive = seal_folder(export, tmp_path / "out.enclave-sealed", "phrase")
    blob = bytearray(archive.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 1
    else:
        blob = blob[:len(sealed.MAGIC) + 23 + 2 * (4 + sealed.CHUNK + 16)]
    archive.write_bytes(bytes(blob))
    with pytest.raises(SealError):
        open_archive(archive, tmp_path / "opened", "phrase")
