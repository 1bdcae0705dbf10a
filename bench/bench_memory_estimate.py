"""Memory estimate against measured peak memory (RSS on CPU) for a few SmolLM2 recipes.

Each case trains a couple of steps in a fresh child process and reads its peak resident
set size; the estimate is computed beforehand from the folder alone. Prints the error per
case; the target is within ±25 %.

Run: .venv/bin/python bench/bench_memory_estimate.py [--steps 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = [
    {"method": "lora", "batch_size": 2, "max_length": 128},
    {"method": "lora", "batch_size": 4, "max_length": 256},
    {"method": "lora", "batch_size": 4, "max_length": 256, "gradient_checkpointing": True},
    {"method": "qlora", "batch_size": 2, "max_length": 128},
    {"method": "full", "batch_size": 2, "max_length": 128},
]

CHILD = """
import json, resource, sys
from pathlib import Path
import engine
from engine.train.loop import train
from engine.train.recipe import TrainRecipe
folder, values, out = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
records = [{"prompt": "Summarise the note: " + "patient stable, " * 8,
            "response": "Stable patient. " * 80} for _ in range(16)]
train(Path(folder), records, TrainRecipe(**values), out)
print(json.dumps({"peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    import engine  # noqa: F401
    from engine.models.bundled import smollm2_folder
    from engine.train.memory_estimate import MB, estimate
    from engine.train.recipe import TrainRecipe

    folder = smollm2_folder()
    print(f"{'case':<52} {'estimate MB':>11} {'measured MB':>11} {'error':>7}")
    errors = []
    for case in CASES:
        values = {**case, "max_steps": args.steps, "checkpoint_every": 0,
                  "learning_rate": 2e-5 if case["method"] == "full" else 2e-4}
        guess = estimate(folder, TrainRecipe(**values))
        with tempfile.TemporaryDirectory() as scratch:
            done = subprocess.run([sys.executable, "-c", CHILD, str(folder), json.dumps(values),
                                   str(Path(scratch) / "out")], capture_output=True, text=True)
        if done.returncode:
            print(f"{json.dumps(case):<52} failed: {done.stderr.strip()[-300:]}")
            continue
        measured = json.loads(done.stdout.strip().splitlines()[-1])["peak_rss"]
        error = (guess.total - measured) / measured
        errors.append(abs(error))
        label = ", ".join(f"{k}={v}" for k, v in case.items())
        print(f"{label:<52} {guess.total / MB:>11,.0f} {measured / MB:>11,.0f} {error:>+7.1%}")
        print(f"    {guess.summary()}")
    if errors:
        print(f"largest |error| {max(errors):.1%} (target 25 %)")


if __name__ == "__main__":
    main()
