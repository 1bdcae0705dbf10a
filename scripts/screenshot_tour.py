"""Drive the real window over a workspace where the demo pipeline ran, and save the
README's screenshots.

Run by scripts/screenshots.sh (which prepares the workspace); two steps:

* ``review``: open the project's evaluation in the Review tab and rate answers by
  clicking the rating buttons, as an expert would (these ratings become DPO pairs);
* ``shots``: the guided path as a first-time user sees it (expert tabs hidden), then the
  Overview and every stage tab, one PNG per tab; the Chat tab after asking the tuned and
  the base model the same question (a real chat job, answers streamed by the models).

Usage: python scripts/screenshot_tour.py review|shots --project NAME [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

SHOTS = {"Overview": "overview.png", "Data": "data.png", "Selection": "selection.png",
         "Training": "training.png", "Compress": "compress.png", "Evaluate": "evaluate.png",
         "Review": "review.png", "Browse": "browse.png", "Compare": "compare.png"}
CHAT_PROMPT = "Write a short discharge note for a patient treated for a chest infection."


def _settle(app, seconds: float = 1.5) -> None:
    """Let the window load what panels fetch in the background and repaint."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _panel(window, title: str):
    return next(panel for name, panel in window.stage_panels if name == title)


def _show_tab(window, app, title: str) -> None:
    if hasattr(window, "show_details_of"):
        window.show_details_of(title)  # expert tabs are shown under Details
    tabs = window.tabs
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    tabs.setCurrentIndex(index)
    _settle(app)


def review(window, app, ratings: int = 8) -> int:
    """Rate the tuned answer above the base one on the first items; returns items saved."""
    _show_tab(window, app, "Review")
    panel = _panel(window, "Review")
    saved = 0
    for index in range(min(ratings, len(panel.items))):
        panel.show_item(index)
        sides = panel.sides_of(panel.items[index])
        for column, side in sides.items():
            panel.answer_boxes[column].rating_group.button(4 if side == "tuned" else 2).click()
        tuned_column = next(c for c, s in sides.items() if s == "tuned")
        panel.preference_buttons[tuned_column].click()
        panel.save_button.click()
        saved += 1
        app.processEvents()
    return saved


def _select_run(window, app, method: str) -> bool:
    """Select the newest training run of ``method`` in the Training tab's runs table."""
    panel = _panel(window, "Training")
    table = panel.runs_table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    column = headers.index("method")
    for row in range(table.rowCount()):
        if table.item(row, column) is not None and table.item(row, column).text() == method:
            table.selectRow(row)
            _settle(app, 0.5)
            return True
    return False


def guide(window, app, out: Path) -> Path:
    """The guided path with the expert tabs hidden, on the first step not done yet."""
    from gui.screenshot import render

    window.set_details(False)
    window.tabs.setCurrentIndex(next(i for i in range(window.tabs.count())
                                     if window.tabs.tabText(i) == "Guided path"))
    window.guide.refresh()
    window.guide.step_list.setCurrentRow(2)  # "Choose examples": the preset's own figures
    _settle(app)
    return render(window, out / "guide.png")


def chat(window, app, out: Path, prompt: str = CHAT_PROMPT, timeout_s: float = 900) -> Path:
    """Ask the tuned and the base model the same question side by side, as a user would."""
    from gui.screenshot import render

    _show_tab(window, app, "Chat")
    panel = _panel(window, "Chat")
    lora = next((i for i in range(panel.run_combo.count())
                 if "dpo" not in panel.run_combo.itemText(i)), None)
    if lora is not None:  # the demo's LoRA run, not the DPO run made on top of it
        panel.run_combo.setCurrentIndex(lora)
        _settle(app, 0.5)
    panel.compare_check.setChecked(True)
    panel.prompt_edit.setPlainText(prompt)
    job_id = panel.ask()
    if job_id is None:
        raise RuntimeError("the Chat tab could not start a job: " + panel.status_label.text())
    end = time.monotonic() + timeout_s
    while job_id in window.jobs.running() and time.monotonic() < end:
        _settle(app, 0.5)
    _settle(app)
    return render(window, out / "chat.png")


def shots(window, app, out: Path) -> list[Path]:
    """One PNG per tab; the Training tab on the LoRA run and again on the DPO run."""
    from gui.screenshot import render

    written = [guide(window, app, out)]
    for title, name in SHOTS.items():
        _show_tab(window, app, title)
        if title == "Training":
            _select_run(window, app, "lora")
        if title == "Compare":
            _panel(window, "Compare").tick_runs(None)
            _settle(app)
        written.append(render(window, out / name))
    _show_tab(window, app, "Training")
    if _select_run(window, app, "dpo"):
        written.append(render(window, out / "training-dpo.png"))
    written.append(chat(window, app, out))
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="screenshot_tour.py")
    parser.add_argument("step", choices=("review", "shots"))
    parser.add_argument("--project", required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--size", default="1280x820")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gui.app import application, create_main_window

    app = application()
    window = create_main_window()
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    if not window.select_project_by_name(args.project):
        print(f"no project named {args.project!r}", file=sys.stderr)
        return 1
    _settle(app)
    try:
        if args.step == "review":
            print(f"rated {review(window, app)} items in the Review tab")
        else:
            for path in shots(window, app, args.out):
                print(path)
    finally:
        window.bridge.shutdown()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
