"""Automatic lock: after a quiet spell the window hides its content and asks for the
passphrase again; jobs keep running (they hold their key already).

Any key press, click or wheel turn in the application restarts the clock. The idle time
is a setting (``privacy/lock_minutes``, default 15 minutes).
"""

from __future__ import annotations

import hmac
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMainWindow

from engine.store import keys
from engine.store.keys import WrongPassphrase
from gui.passphrase import UnlockDialog

DEFAULT_MINUTES = 15
_ACTIVITY = {QEvent.KeyPress, QEvent.MouseButtonPress, QEvent.Wheel, QEvent.TouchBegin}


def lock_minutes() -> float:
    """The configured idle time before the lock, in minutes."""
    value = QSettings("Enclave", "Enclave").value("privacy/lock_minutes", DEFAULT_MINUTES)
    try:
        return max(float(value), 0.05)
    except (TypeError, ValueError):
        return DEFAULT_MINUTES


class IdleLock(QObject):
    """Locks ``window`` after ``minutes`` without input.

    Signals:
        locked(): the window was locked.
        unlocked(): the right passphrase was given.
    """

    locked = Signal()
    unlocked = Signal()

    def __init__(self, window: QMainWindow, db_path: Path, minutes: float | None = None) -> None:
        super().__init__(window)
        self.window, self.db_path = window, Path(db_path)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(int((minutes or lock_minutes()) * 60_000))
        self.timer.timeout.connect(self.lock)
        self.dialog: UnlockDialog | None = None
        QApplication.instance().installEventFilter(self)
        self.timer.start()

    @property
    def is_locked(self) -> bool:
        """Whether the window is locked now."""
        return self.dialog is not None

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in _ACTIVITY and not self.is_locked:
            self.timer.start()
        return False

    def check(self, passphrase: str) -> None:
        """Raise WrongPassphrase unless ``passphrase`` gives the key this window holds."""
        held = keys.key_for(self.db_path)
        given = keys.derive(passphrase, keys.file_salt(self.db_path)) if passphrase else b""
        if held is None or not hmac.compare_digest(held, given):
            raise WrongPassphrase(self.db_path)

    def lock(self) -> None:
        """Hide the window's content and ask for the passphrase."""
        if self.is_locked:
            return
        self.window.centralWidget().setVisible(False)
        self.window.menuBar().setEnabled(False)
        self.dialog = UnlockDialog(self.db_path, self.window, self.check,
                                   title="Enclave is locked")
        self.dialog.setModal(True)
        self.dialog.accepted.connect(self._on_unlocked)
        self.dialog.rejected.connect(self.dialog.open)  # no way around it but the passphrase
        self.dialog.open()
        self.locked.emit()

    def _on_unlocked(self) -> None:
        self.dialog.deleteLater()
        self.dialog = None
        self.window.centralWidget().setVisible(True)
        self.window.menuBar().setEnabled(True)
        self.timer.start()
        self.unlocked.emit()
