"""Passphrase dialogs: set one at first start (with strength advice), unlock at start.

With no passphrase set and a workspace that exists, nothing is asked: the window opens
as before. A new workspace is offered encryption once; an encrypted one asks for its
passphrase and says plainly when it is wrong, changing nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from engine.store import encryption, keys

MIN_SCORE = 3  # zxcvbn: 3 = "safely unguessable", 4 = "very unguessable"
_WORDS = ("very weak", "weak", "fair", "strong", "very strong")


def advice(text: str) -> tuple[int, str]:
    """A passphrase's strength (0–4) and one line of advice for the user."""
    if not text:
        return 0, "Use four or more unrelated words; a sentence you will remember works well."
    from zxcvbn import zxcvbn

    found = zxcvbn(text[:100])
    score = int(found["score"])
    hint = found["feedback"].get("warning") or " ".join(found["feedback"].get("suggestions", []))
    when = found["crack_times_display"]["offline_slow_hashing_1e4_per_second"]
    line = f"Strength: {_WORDS[score]} (guessed in {when} by a determined attacker)."
    return score, f"{line} {hint}".strip()


class NewPassphraseDialog(QDialog):
    """Choose a passphrase: typed twice, strong enough, with advice while typing."""

    def __init__(self, parent: QWidget | None = None, title: str = "Protect this workspace") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        intro = QLabel("Patients' and clients' records will be stored encrypted on this "
                       "computer. Choose a passphrase: without it nobody, including you, "
                       "can open the workspace. Write it down and keep it safe.")
        intro.setWordWrap(True)
        self.first, self.second = QLineEdit(), QLineEdit()
        for field in (self.first, self.second):
            field.setEchoMode(QLineEdit.Password)
            field.textChanged.connect(self._on_text_changed)
        self.advice_label = QLabel()
        self.advice_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Passphrase", self.first)
        form.addRow("Once more", self.second)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.advice_label)
        layout.addWidget(self.buttons)
        self._on_text_changed()

    def passphrase(self) -> str:
        """The chosen passphrase."""
        return self.first.text()

    def _on_text_changed(self) -> None:
        score, text = advice(self.first.text())
        same = self.first.text() == self.second.text()
        if self.second.text() and not same:
            text += " The two entries differ."
        self.advice_label.setText(text)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(score >= MIN_SCORE and same)


class UnlockDialog(QDialog):
    """Ask for the passphrase of an encrypted workspace until it opens or the user gives up.

    Args:
        path: The workspace file.
        check: Called with the passphrase; raises ``WrongPassphrase`` when it is wrong
            (default: unlock the workspace for this process).
    """

    def __init__(self, path: Path, parent: QWidget | None = None, check=None,
                 title: str = "Unlock Enclave") -> None:
        super().__init__(parent)
        self.path, self.check = Path(path), check or (lambda text: encryption.unlock(path, text))
        self.setWindowTitle(title)
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.Password)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._on_ok)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("This workspace is encrypted. Enter its passphrase."))
        layout.addWidget(self.field)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _on_ok(self) -> None:
        try:
            self.check(self.field.text())
        except (encryption.WrongPassphrase, ValueError):
            self.error_label.setText("That passphrase does not open this workspace. "
                                     "Nothing was changed; try again.")
            self.field.clear()
            return
        self.field.clear()
        self.error_label.clear()
        self.accept()


def unlock_at_start(db_path: Path, parent: QWidget | None = None) -> bool:
    """Before the window opens: unlock an encrypted workspace, or offer to encrypt a new
    one. Returns False when the user gave up (the window should not open)."""
    db_path = Path(db_path)
    if keys.is_encrypted(db_path):
        return keys.key_for(db_path) is not None or UnlockDialog(db_path, parent).exec() == QDialog.Accepted
    if db_path.exists() and db_path.stat().st_size:
        return True  # a plain workspace: nothing changes (`enclave workspace encrypt` converts it)
    answer = QMessageBox.question(
        parent, "Protect this workspace",
        "Encrypt the records you bring into Enclave with a passphrase? Recommended for "
        "patients' and clients' data. You can also do it later with "
        "`enclave workspace encrypt`.", QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
    if answer != QMessageBox.Yes:
        return True
    dialog = NewPassphraseDialog(parent)
    if dialog.exec() != QDialog.Accepted:
        return True
    encryption.create(db_path, dialog.passphrase())
    return True
