"""Main-thread latency of the real window while jobs run: does the window ever freeze?

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui_latency.py [--records 400]
     [--train-steps 4] [--replay-steps 2000]

A throw-away workspace; the real window (gui.app.create_main_window) at 1280×800. A 10 ms
precise timer ticks on the main thread the whole time; a stall is the gap between two ticks.
The window is driven through its own panels, each job's tab on screen while it runs:
import (a generated JSONL file), clean, select, train (bundled SmolLM2, LoRA, a few steps)
and evaluate (base vs tuned on a few test items). Per job it prints the longest and the
99th-percentile gap, against the named baseline "idle window" (the same window, no job,
measured in the same run):

    idle: max 12 ms, p99 11 ms (baseline)
    train: max 42 ms, p99 18 ms (3.5x / 1.6x idle) ok

"ok" when both are under 100 ms. The exit code is 1 when a job's max gap is 100 ms or more.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 10
LIMIT_MS = 100.0
_WORDS = ("fever cough dressing wound ward dose insulin warfarin discharge review daily twice "
          "routine urgent patient nurse clinic follow-up swelling pain").split()


def write_notes(path: Path, count: int, seed: int = 0) -> Path:
    """``count`` short instruction records (prompt, response) as JSON lines."""
    rng = random.Random(seed)
    lines = [json.dumps({"prompt": " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 16)))
                         + f" (case {i})?",
                         "response": " ".join(rng.choice(_WORDS) for _ in range(10)) + "."})
             for i in range(count)]
    path.write_text("\n".join(lines))
    return path


class StallMonitor:
    """Records the gaps between the ticks of a 10 ms timer on the main thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self.busy: list[float] = []  # the main thread's own CPU time within each gap
        self._last, self._cpu = time.perf_counter(), time.thread_time()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.gaps.append((now - self._last) * 1000)
        self.busy.append((cpu - self._cpu) * 1000)
        self._last, self._cpu = now, cpu

    def reset(self) -> None:
        self.gaps, self.busy = [], []
        self._last, self._cpu = time.perf_counter(), time.thread_time()

    def watch(self, threshold_ms: float = 60.0) -> list[str]:
        """Sample the main thread's stack from a helper thread whenever a tick is more
        than ``threshold_ms`` late; returns the list the samples are appended to."""
        import threading
        import traceback

        main, samples = threading.main_thread().ident, []

        def sample() -> None:
            stall, stacks = None, {}
            while True:
                time.sleep(0.02)
                late = (time.perf_counter() - self._last) * 1000
                if late > threshold_ms:
                    frame = sys._current_frames().get(main)
                    stack = "".join(
                        f"    {f.filename.split('/work/main/')[-1]}:{f.lineno} {f.name}\n"
                        for f in (traceback.extract_stack(frame)[-10:] if frame else []))
                    stall = stall or self._last
                    stacks[stack] = stacks.get(stack, 0) + 1
                    longest = late
                elif stall is not None:
                    top = max(stacks, key=stacks.get)
                    samples.append(f"{longest:.0f} ms, most seen ({stacks[top]} of "
                                   f"{sum(stacks.values())} samples):\n{top}")
                    stall, stacks = None, {}

        threading.Thread(target=sample, daemon=True, name="stall-sampler").start()
        return samples

    def figures(self) -> tuple[float, float]:
        """(max, p99) gap in ms."""
        gaps = sorted(self.gaps) or [0.0]
        return gaps[-1], gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]

    def busy_in_longest(self) -> float:
        """The main thread's own CPU ms within the longest gap: near the gap itself when the
        window was working, far below it when the thread waited (for a core, or the GIL)."""
        if not self.gaps:
            return 0.0
        return self.busy[max(range(len(self.gaps)), key=self.gaps.__getitem__)]


def wait_for(app, seconds: float) -> None:
    """Run the event loop for ``seconds`` (the timer keeps ticking)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def renice_when_running(window, job_id: int, niceness: int):
    """Lower the priority of a job's process (each of its threads) once its row names its
    pid: what the window's main thread gains when jobs yield the CPU to it. Returns the
    polling timer (keep a reference)."""
    from PySide6.QtCore import QTimer

    from engine.store import jobs

    timer = QTimer()

    def poll() -> None:
        pid = jobs.get(window.db, job_id).get("pid")
        if not pid:
            return
        timer.stop()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                os.setpriority(os.PRIO_PROCESS, int(task.name), niceness)
            except OSError:
                pass  # the thread ended meanwhile

    timer.timeout.connect(poll)
    timer.start(50)
    return timer


def run_job(window, start, timeout_s: float = 1800, shot: Path | None = None,
            niceness: int = 0) -> dict:
    """Start a job with ``start()`` (returns its id) and run the event loop until it ends;
    with ``shot``, the window is rendered to that PNG at the job's newest progress before
    its end (the live charts as the user sees them)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop, ended = QEventLoop(), {}
    if shot is not None:
        from gui.screenshot import render

        def on_progress(job_id: int, _event: dict) -> None:
            if job_id == ended.get("id"):
                QTimer.singleShot(600, lambda: ended.get("row") or render(window, shot))

        window.jobs.job_progressed.connect(on_progress)

    def on_finished(job_id: int, row: dict) -> None:
        if job_id == ended.get("id"):
            ended["row"] = row
            loop.quit()

    window.jobs.job_finished.connect(on_finished)
    ended["id"] = start()
    if ended["id"] is None:
        window.jobs.job_finished.disconnect(on_finished)
        return {"state": "not started"}
    renice = renice_when_running(window, ended["id"], niceness) if niceness else None
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    if renice is not None:
        renice.stop()
    window.jobs.job_finished.disconnect(on_finished)
    if shot is not None:
        window.jobs.job_progressed.disconnect(on_progress)
    return ended.get("row", {"state": "timed out"})


def steps(window, notes: Path, train_steps: int) -> list[tuple[str, str, object]]:
    """(name, tab, start) of each job, driven through the real panels."""
    panels = dict(window.stage_panels)
    data, select, train, evaluate = (panels[t] for t in ("Data", "Selection", "Training",
                                                         "Evaluate"))

    def start_train():
        train.refresh()
        for name, value in {"max_steps": train_steps, "batch_size": 2, "max_length": 64,
                            "checkpoint_every": 0, "checkpoint_minutes": 0}.items():
            train.inputs[name].setText(str(value))
        train.start()
        return train.job_id

    def start_select():
        select.refresh()
        select.budget_edit.setText("32")
        return select.run_selection()

    def start_evaluate():
        evaluate.refresh()
        evaluate.limit_spin.setValue(2)
        return evaluate.run_evaluation()

    return [("import", "Data", lambda: window.guide.import_file(str(notes))),
            ("clean", "Data", data.run_clean),
            ("select", "Selection", start_select),
            ("train", "Training", start_train),
            ("evaluate", "Evaluate", start_evaluate)]


def seed_workspace(db, project_id: int, count: int) -> None:
    """A pool version and its held-out test split written straight into the store (the
    inputs of clean, select and train without running an import job first)."""
    import hashlib

    from engine.store import datasets

    rows = [json.loads(line) for line in write_notes(Path(tempfile.mkdtemp()) / "n.jsonl",
                                                     count).read_text().splitlines()]
    for i, row in enumerate(rows):
        row["_line"] = i + 1
    hashes = [hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest() for r in rows]
    cut = max(2, count // 10)
    test = datasets.add_version(db, project_id, "notes", "import", rows[:cut], hashes[:cut],
                                role="test")
    datasets.add_version(db, project_id, "notes", "import", rows[cut:], hashes[cut:],
                         role="pool", test_id=test)


def open_window(app, records: int, seeded: bool):
    """A real window on a fresh workspace with one project (seeded with data or not)."""
    from gui.app import create_main_window

    home = Path(tempfile.mkdtemp(prefix="enclave-latency-"))
    os.environ["ENCLAVE_HOME"] = str(home)
    window = create_main_window()
    window.resize(1280, 800)
    window.show()
    project_id = window.create_project("Latency ward")
    if seeded:
        seed_workspace(window.db, project_id, records)
    window.reload()
    window.set_details(True)
    return window, write_notes(home / "notes.jsonl", records)


def replay_training(window, app, monitor: StallMonitor, steps: int,
                    rate: float = 50.0) -> tuple[float, float]:
    """A long training run's progress stream (``steps`` steps at ``rate`` a second, an eval
    loss every 50) fed to the Training tab through the bridge, as a run on a fast GPU would
    send it; no model runs, so the gaps are the window's own. Returns (max, p99) in ms."""
    import math

    from PySide6.QtCore import QTimer

    panel, job_id = dict(window.stage_panels)["Training"], -1
    window.show_details_of("Training")
    panel.job.job_id = job_id  # the panel follows the replayed run as its own job
    wait_for(app, 0.3)
    monitor.reset()
    rng, sent, timer = random.Random(0), [0], QTimer()

    def send() -> None:
        sent[0] += 1
        step = sent[0]
        metrics = {"loss": 2 + math.exp(-step / (steps / 4)) + 0.2 * rng.random(),
                   "lr": 2e-4 * (1 - step / steps), "tokens_per_s": 900 + 50 * rng.random(),
                   "eta_s": (steps - step) / rate}
        if step % 50 == 0:
            metrics["eval_loss"] = metrics["loss"] + 0.1
        window.bridge.job_progressed.emit(job_id, {"stage": "train", "step": step,
                                                   "total": steps, "metrics": metrics,
                                                   "message": f"step {step}/{steps}"})
        if step >= steps:
            timer.stop()

    timer.timeout.connect(send)
    timer.start(int(1000 / rate))
    while timer.isActive():
        wait_for(app, 0.5)
    wait_for(app, 1.0)  # the last coalesced redraw
    panel.job.forget()
    return monitor.figures()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_gui_latency")
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--train-steps", type=int, default=4)
    parser.add_argument("--skip", default="", help="comma-separated jobs not to run")
    parser.add_argument("--why", action="store_true",
                        help="print the main thread's stack during each stall over 60 ms")
    parser.add_argument("--shots", type=Path,
                        help="folder: render the window while each job runs (<job>.png); the "
                             "renders stall the window too, so time without it")
    parser.add_argument("--replay-steps", type=int, default=0,
                        help="also feed the Training tab a replayed run of this many steps "
                             "at 50 a second (its charts at the length of a real run)")
    parser.add_argument("--nice-jobs", type=int, default=0,
                        help="run each job's process at this niceness (1-19: it yields the "
                             "CPU to the window); 0, the default, leaves it as started")
    parser.add_argument("--fresh-each", action="store_true",
                        help="each job in a fresh workspace whose inputs are written straight "
                             "into the store (evaluate still follows a train job)")
    args = parser.parse_args(argv)
    from gui.app import application

    app = application()
    window, notes = open_window(app, args.records, seeded=False)
    monitor = StallMonitor()
    samples = monitor.watch() if args.why else []
    wait_for(app, 1.0)
    monitor.reset()
    wait_for(app, 3.0)
    idle_max, idle_p99 = monitor.figures()
    print(f"idle: max {idle_max:.0f} ms, p99 {idle_p99:.0f} ms (baseline)", flush=True)
    worst = 0.0
    skipped = {name.strip() for name in args.skip.split(",") if name.strip()}
    for index, (name, *_rest) in enumerate(steps(window, notes, args.train_steps)):
        if name in skipped:
            print(f"{name}: skipped", flush=True)
            continue
        if args.fresh_each and name in ("clean", "select", "train"):
            window.bridge.shutdown(2.0)
            window.close()
            window, notes = open_window(app, args.records, seeded=True)
        _name, tab, start = steps(window, notes, args.train_steps)[index]
        window.show_details_of(tab)
        wait_for(app, 0.3)
        monitor.reset()
        samples.clear()
        started = time.perf_counter()
        row = run_job(window, start, shot=args.shots / f"{name}.png" if args.shots else None,
                      niceness=args.nice_jobs)
        wait_for(app, 0.5)  # the panels' reload after the job ends counts too
        high, p99 = monitor.figures()
        verdict = "ok" if high < LIMIT_MS and p99 < LIMIT_MS else "SLOW"
        state = row.get("state")
        note = "" if state == "succeeded" else f" [job {state}: {(row.get('error') or '')[:80]}]"
        print(f"{name}: max {high:.0f} ms, p99 {p99:.0f} ms ({high / idle_max:.1f}x / "
              f"{p99 / idle_p99:.1f}x idle) {verdict}; job {time.perf_counter() - started:.0f} s"
              f"; main thread busy {monitor.busy_in_longest():.0f} ms of the longest gap"
              f"{note}", flush=True)
        worst = max(worst, high)
        for sample in samples:
            print(f"  {name} stall, {sample}", flush=True)
        samples.clear()
    if args.replay_steps:
        high, p99 = replay_training(window, app, monitor, args.replay_steps)
        verdict = "ok" if high < LIMIT_MS and p99 < LIMIT_MS else "SLOW"
        print(f"train replay ({args.replay_steps} steps): max {high:.0f} ms, p99 {p99:.0f} ms "
              f"({high / idle_max:.1f}x / {p99 / idle_p99:.1f}x idle) {verdict}; main thread "
              f"busy {monitor.busy_in_longest():.0f} ms of the longest gap", flush=True)
        worst = max(worst, high)
    window.bridge.shutdown(2.0)
    window.close()
    return 0 if worst < LIMIT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
