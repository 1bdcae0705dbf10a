"""Theme, icon and Help → About (version and the self-check in its own process)."""

import pytest

import engine
from engine import resources
from gui import about, theme
from gui.app import application


def test_application_is_styled_from_packaged_resources(qtbot):
    app = application()
    assert app.styleSheet() == theme.style_sheet(theme.system_theme())
    assert theme.system_theme() == "light"  # offscreen reports no colour scheme
    assert not app.windowIcon().isNull()
    assert theme.style_sheet("dark") == resources.read_text("styles", "dark.qss")
    with pytest.raises(ValueError, match="unknown theme"):
        theme.style_sheet("sepia")


def test_help_menu_opens_about_with_version_and_self_check(window, qtbot, monkeypatch):
    menus = [a.menu() for a in window.menuBar().actions() if a.menu() is not None]
    help_menu = [m for m in menus if m.objectName() == "helpMenu"][0]
    assert [a.objectName() for a in help_menu.actions() if not a.isSeparator()] == \
        ["helpAction", "demoAction", "aboutAction"]
    shown = []
    monkeypatch.setattr(about.AboutDialog, "exec", lambda self: shown.append(self))
    help_menu.actions()[-1].trigger()
    dialog = shown[0]
    qtbot.addWidget(dialog)
    assert about.about_text().startswith(f"Enclave {engine.__version__}\n")
    assert "Device: CPU" in about.about_text()
    assert "Offline: network blocked in jobs" in about.about_text()
    with qtbot.waitSignal(dialog.check_finished, timeout=120_000) as blocker:
        dialog.run_check()
    assert blocker.args == [0]
    text = dialog.report.toPlainText()
    assert "Enclave doctor" in text and "[network]" in text and "All checks passed." in text
