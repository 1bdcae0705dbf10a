"""Encrypted export archives (``.enclave-sealed``): a folder as a tar stream, sealed with
AES-256-GCM in 1 MiB chunks; the key comes from the passphrase with scrypt.

Layout: the magic line, the scrypt salt (16 bytes) and a nonce prefix (7 bytes); then
chunks, each a 4-byte big-endian length and the ciphertext with its tag. Each chunk's
nonce is the prefix, its index (4 bytes) and a last-chunk flag (1 byte), and the same
index and flag are authenticated, so a chunk that was changed, reordered, removed or
cut off at the end makes opening fail (the STREAM construction).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tarfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engine import fsutil

MAGIC = b"ENCLAVE-SEALED-1\n"
SUFFIX = ".enclave-sealed"
CHUNK = 1 << 20
_SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1, "maxmem": 128 * 1024 * 1024, "dklen": 32}


class SealError(ValueError):
    """An archive that cannot be opened: wrong passphrase, damaged or not an archive."""


def _key(passphrase: str, salt: bytes) -> AESGCM:
    if not passphrase:
        raise SealError("The passphrase is empty.")
    return AESGCM(hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, **_SCRYPT))


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", index, int(last))


class _SealingWriter:
    """A write-only file that seals what it is given, chunk by chunk."""

    def __init__(self, out, aead: AESGCM, prefix: bytes) -> None:
        self.out, self.aead, self.prefix = out, aead, prefix
        self.buffer, self.index = bytearray(), 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) > CHUNK:  # keep at least one byte for the last chunk
            self._emit(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def finish(self) -> None:
        self._emit(bytes(self.buffer), last=True)

    def _emit(self, plain: bytes, last: bool) -> None:
        nonce = _nonce(self.prefix, self.index, last)
        sealed = self.aead.encrypt(nonce, plain, nonce)
        self.out.write(struct.pack(">I", len(sealed)) + sealed)
        self.index += 1


class _OpeningReader:
    """A read-only file that opens a sealed stream chunk by chunk."""

    def __init__(self, source, aead: AESGCM, prefix: bytes) -> None:
        self.source, self.aead, self.prefix = source, aead, prefix
        self.buffer, self.index, self.done = bytearray(), 0, False

    def read(self, size: int = -1) -> bytes:
        while not self.done and (size < 0 or len(self.buffer) < size):
            self._next()
        size = len(self.buffer) if size < 0 else min(size, len(self.buffer))
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _next(self) -> None:
        head = self.source.read(4)
        if len(head) != 4:
            raise SealError("The archive is cut off (its last part is missing).")
        sealed = self.source.read(struct.unpack(">I", head)[0])
        for last in (False, True):
            nonce = _nonce(self.prefix, self.index, last)
            try:
                self.buffer += self.aead.decrypt(nonce, sealed, nonce)
            except InvalidTag:
                continue
            self.index, self.done = self.index + 1, last
            return
        raise SealError("Wrong passphrase, or the archive was changed or damaged "
                        f"(part {self.index + 1} does not open).")


def seal_folder(folder: Path, target: Path, passphrase: str) -> Path:
    """Write ``folder`` as an encrypted archive at ``target`` (mode 0600).

    Returns:
        The archive's path.
    """
    fsutil.owner_only()
    folder, target = Path(folder), Path(target)
    salt, prefix = os.urandom(16), os.urandom(7)
    partial = target.with_name(f".{target.name}.partial")
    with open(partial, "wb") as out:
        out.write(MAGIC + salt + prefix)
        writer = _SealingWriter(out, _key(passphrase, salt), prefix)
        with tarfile.open(fileobj=writer, mode="w|") as tar:
            tar.add(folder, arcname=folder.name)
        writer.finish()
    os.replace(partial, target)
    return target


def open_archive(archive: Path, into: Path, passphrase: str) -> Path:
    """Open an encrypted archive into the folder ``into`` (created, owner-only).

    Returns:
        The folder that was in the archive.

    Raises:
        SealError: wrong passphrase, a changed or damaged archive, or not an archive.
    """
    fsutil.owner_only()
    into = Path(into)
    with open(archive, "rb") as source:
        if source.read(len(MAGIC)) != MAGIC:
            raise SealError(f"{archive} is not an Enclave encrypted archive.")
        salt, prefix = source.read(16), source.read(7)
        reader = _OpeningReader(source, _key(passphrase, salt), prefix)
        reader._next()  # the passphrase is checked before anything is written
        into.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            names = []
            for member in tar:
                names.append(member.name)
                tar.extract(member, into, filter="data")
        while not reader.done:  # a missing last chunk is found even after the tar's end
            reader._next()
    return into / names[0].split("/")[0] if names else into

