"""One process of a launched training run: ``python -m engine.train.worker SPEC``.

torchrun or ``accelerate launch`` (through :mod:`engine.train.launch`) starts one of these per
GPU (or per CPU process). Each reads the run's spec (see :func:`write_spec`), joins the process
group through :func:`engine.train.distributed.from_environment` and runs the ordinary loop
(:func:`engine.train.loop.train`). Rank 0 appends progress events to the spec's ``events``
file (one JSON object a line) and writes the outcome to ``result`` (``{"result": ...}``,
``{"cancelled": true}`` or ``{"error": ...}``); every rank stops at the same step once the
``cancel`` file appears.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from engine import netwall
from engine.progress import Cancelled, Progress, Reporter
from engine.train.loop import train
from engine.train.recipe import TrainRecipe

EXIT_CANCELLED = 3


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` under a temporary name beside ``path``, then rename it into place."""
    import os

    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def write_spec(folder: Path, *, base: Path, records: list[dict], eval_records: list[dict] | None,
               recipe: dict, out_dir: Path, checkpoint_dir: Path) -> Path:
    """Write a run's spec and records into ``folder``; returns the spec file.

    The spec names absolute paths only, so that the same file serves every machine of a
    cluster that shares the folder.
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomically(folder / "records.json", json.dumps(records))
    spec = {"base": str(Path(base).resolve()), "records": str(folder / "records.json"),
            "eval_records": None, "recipe": recipe, "out_dir": str(Path(out_dir).resolve()),
            "checkpoint_dir": str(Path(checkpoint_dir).resolve()),
            "events": str(folder / "events.jsonl"), "cancel": str(folder / "cancel"),
            "result": str(folder / "result.json")}
    if eval_records is not None:
        write_text_atomically(folder / "eval_records.json", json.dumps(eval_records))
        spec["eval_records"] = str(folder / "eval_records.json")
    for name in ("events", "cancel", "result"):
        Path(spec[name]).unlink(missing_ok=True)
    path = folder / "spec.json"
    write_text_atomically(path, json.dumps(spec, indent=2))
    return path


def _event_writer(path: Path):
    def write(event: Progress) -> None:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(event.to_dict()) + "\n")
    return write


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    from engine.train import distributed

    ranks = distributed.from_environment()
    cancel = Path(spec["cancel"])
    reporter = Reporter(_event_writer(Path(spec["events"])) if ranks.is_main else None,
                        cancel.exists, "train")
    eval_records = json.loads(Path(spec["eval_records"]).read_text()) \
        if spec.get("eval_records") else None
    result = train(Path(spec["base"]), json.loads(Path(spec["records"]).read_text()),
                   TrainRecipe.from_dict(spec["recipe"]), Path(spec["out_dir"]), reporter,
                   eval_records=eval_records, checkpoint_dir=Path(spec["checkpoint_dir"]),
                   ranks=ranks)
    return {"rank": ranks.rank, "processes": ranks.world,
            "result": {**asdict(result), "adapter_dir": str(result.adapter_dir)}}


def walls_line() -> str:
    """This process's network walls in one line (each rank says it in the launcher's log)."""

    walls = netwall.active_walls()
    opened = ", ".join(walls["opened_to"])
    return (f"network walls: {', '.join(walls['walls']) or 'none'}"
            + (f", opened to {opened} and loopback only" if opened else ""))


def main(argv: list[str] | None = None) -> int:
    """Run this process's share of the run in the spec file named by ``argv[0]``."""
    import os

    spec = json.loads(Path((argv or sys.argv[1:])[0]).read_text())
    is_main = int(os.environ.get("RANK", "0")) == 0
    print(f"rank {os.environ.get('RANK', '0')}: {walls_line()}", file=sys.stderr, flush=True)
    try:
        outcome = _run(spec)
        code = 0
    except Cancelled:
        outcome, code = {"cancelled": True}, EXIT_CANCELLED
    except Exception as exc:  # noqa: BLE001 (the job process shows the message)
        outcome, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
        if not is_main:
            raise
    if is_main:
        write_text_atomically(Path(spec["result"]), json.dumps(outcome))
    return code


if __name__ == "__main__":
    sys.exit(main())
