"""Start-up of the window: no heavy imports, damaged workspace, screenshots."""

import os
import subprocess
import sys
import textwrap

from PySide6.QtWidgets import QMessageBox

from engine import paths
from engine.store import projects
from gui import app, screenshot

HEAVY = ("torch", "transformers", "peft", "sklearn", "sentence_transformers", "bitsandbytes")


def test_window_opens_without_heavy_libraries(enclave_home):
    code = textwrap.dedent(f"""
        import sys
        from gui.app import application, create_main_window
        qapp = application()
        window = create_main_window()
        window.show()
        qapp.processEvents()
        window.bridge.shutdown()
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ENCLAVE_HOME": str(enclave_home)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_damaged_workspace_shows_message_and_exits_2(qtbot, enclave_home, monkeypatch):
    paths.workspace_db().write_bytes(b"this is not a database" * 100)
    shown = []
    monkeypatch.setattr(QMessageBox, "critical",
                        lambda parent, title, text: shown.append(text))

    assert app.main([]) == app.EXIT_STORE_CORRUPTED
    assert "cannot be opened safely" in shown[0]


def test_stale_running_job_becomes_interrupted_at_start(db, qtbot):
    from engine.store import jobs

    job_id = jobs.create(db, "test.count", {})
    jobs.mark_running(db, job_id, pid=2**22 + 12345)
    window = app.create_main_window(paths.workspace_db())
    qtbot.addWidget(window)

    assert jobs.get(db, job_id)["state"] == "interrupted"
    assert "interrupted" in window.statusBar().currentMessage()
    window.bridge.shutdown()


def test_screenshot_command_writes_png(qtbot, db, tmp_path):
    projects.create(db, "Shown")
    out = tmp_path / "shots" / "window.png"

    assert screenshot.main([str(out), "--project", "Shown"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.main([str(tmp_path / "x.png"), "--project", "Missing"]) == 1


def test_many_signal_emits_do_not_exhaust_true(qtbot):
    """PySide6 6.12.0 on Python 3.11 lost a reference to True per emit (pinned out in pyproject)."""
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        ticked = Signal()

    emitter = Emitter()
    for _ in range(20_000):  # more than True's usual reference count
        emitter.ticked.emit()
    assert sys.getrefcount(True) > 0


def test_enclave_gui_opens_the_window_and_other_commands_never_load_qt(capsys):
    """The console script is engine.cli:main; `enclave gui` looks the window up by name."""
    from engine.cli import main
    from engine.cli.parser import build_parser

    assert main(["projects", "--json"]) == 0
    assert '"projects": []' in capsys.readouterr().out
    assert build_parser().parse_args(["gui"]).func.__name__ == "gui"
    engine_only = subprocess.run(
        [sys.executable, "-c", "import sys; from engine.cli import main; main(['projects']);"
         "print(any(m.startswith('PySide6') for m in sys.modules))"],
        capture_output=True, text=True, check=True).stdout
    assert engine_only.strip().endswith("False")
