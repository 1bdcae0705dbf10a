"""Entry point of the PyInstaller one-folder build: opens the window.

With ``ENCLAVE_QUIT_WHEN_SHOWN=1`` it quits as soon as the window has been shown
and painted once, so that the start time can be measured from outside.
"""

import os
import sys

from gui.app import main


def _start_and_quit() -> int:
    from PySide6.QtCore import QTimer

    from gui.app import application, create_main_window

    app = application(sys.argv[:1])
    window = create_main_window()
    window.show()
    QTimer.singleShot(0, app.quit)
    code = app.exec()
    window.bridge.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(_start_and_quit() if os.environ.get("ENCLAVE_QUIT_WHEN_SHOWN") == "1"
             else main(sys.argv[:1]))
