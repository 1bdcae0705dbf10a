"""sha256 checksums of every file of an exported folder, in the ``sha256sum`` format.

``SHA256SUMS`` lists one ``<hex>  <relative path>`` line per file, so
``sha256sum -c SHA256SUMS`` run inside the folder checks it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.fsutil import file_sha256

CHECKSUMS_FILE = "SHA256SUMS"


def _listed_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not p.is_symlink() and p.name != CHECKSUMS_FILE)


def write_checksums(folder: str | Path) -> Path:
    """Write ``SHA256SUMS`` for every file under ``folder`` (itself excluded).

    Returns:
        The path of the checksums file.
    """
    folder = Path(folder)
    lines = [f"{file_sha256(p)}  {p.relative_to(folder).as_posix()}\n"
             for p in _listed_files(folder)]
    target = folder / CHECKSUMS_FILE
    target.write_text("".join(lines), encoding="utf-8")
    return target


@dataclass
class VerifyResult:
    """What :func:`verify_export` found; ``ok`` only when nothing is wrong."""

    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every listed file matches and no file is unlisted."""
        return not self.problems


def _parse_line(line: str, where: str) -> tuple[str, str]:
    digest, sep, name = line.partition("  ")
    if not sep or len(digest) != 64 or not name:
        raise ValueError(f"{where}: expected '<64 hex digits>  <file name>'")
    try:
        int(digest, 16)
    except ValueError as exc:
        raise ValueError(f"{where}: '{digest}' is not a hex digest") from exc
    return digest.lower(), name


def verify_export(folder: str | Path) -> VerifyResult:
    """Check every file of an exported folder against its ``SHA256SUMS``.

    Args:
        folder: the export folder.

    Returns:
        The number of files checked and one problem line per mismatching,
        missing or unlisted file.

    Raises:
        FileNotFoundError: if the folder or its checksums file is missing.
        ValueError: naming the line of a malformed checksums file.
    """
    folder = Path(folder)
    sums = folder / CHECKSUMS_FILE
    if not sums.is_file():
        raise FileNotFoundError(f"{sums} is missing; the folder was not exported by Enclave "
                                "or is incomplete")
    result = VerifyResult()
    listed: set[str] = set()
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, name = _parse_line(line, f"{sums} line {number}")
        listed.add(name)
        path = folder / name
        if not path.is_file():
            result.problems.append(f"{name}: listed but missing")
        elif file_sha256(path) != digest:
            result.problems.append(f"{name}: content differs from its checksum")
        result.files += 1
    for path in _listed_files(folder):
        name = path.relative_to(folder).as_posix()
        if name not in listed:
            result.problems.append(f"{name}: present but not listed in {CHECKSUMS_FILE}")
    return result
