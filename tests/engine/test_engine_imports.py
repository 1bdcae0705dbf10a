import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{statement}\nimport sys\n"
                          "print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_engine_never_loads_qt():
    loaded = _modules_after("import engine, engine.cli, engine.demo.pipeline, engine.jobs.runner, "
                            "engine.store, engine.demo.stages.data_stages, engine.demo.stages.model_stages")
    assert not any(m.startswith(("PySide6", "shiboken6", "gui")) for m in loaded)


def test_engine_import_is_light_and_sets_offline_switches():
    loaded = _modules_after("import engine, os\nassert os.environ['HF_HUB_OFFLINE'] == '1'")
    assert "torch" not in loaded and "transformers" not in loaded


def test_cli_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "engine.cli", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for command in ("gui", "demo", "projects", "jobs", "models", "check-model"):
        assert command in out
