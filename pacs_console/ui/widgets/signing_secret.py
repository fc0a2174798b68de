"""What signing a report must ask the engineer, asked on the GUI thread before the work starts:
the profile, whether a first signing creates the certificate, and the certificate's passphrase
(a masked field; typed twice when it is new); the files they depend on are read on a worker
first (``certificate_state``). Used by every window that signs (visit reports,
security assessment reports). The passphrase typed here is held in memory only: it goes to the
signing work as the answer to its question, and the core keeps it for the session as it keeps
any passphrase (``core.reports.certs``)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from pacs_console.core.reports.certs import MIN_PASSPHRASE


def ask_passphrase(parent: QWidget, new: bool = False) -> str | None:
    """The passphrase from a masked dialog; None when cancelled or left empty."""
    if not new:
        text, ok = QInputDialog.getText(parent, "Signing certificate",
                                        "Passphrase of your signing certificate:",
                                        QLineEdit.EchoMode.Password)
        return text if ok and text else None
    for _attempt in range(3):
        first, ok = QInputDialog.getText(
            parent, "Choose a passphrase",
            f"The OS keyring cannot keep a passphrase now, so choose one (at least "
            f"{MIN_PASSPHRASE} characters). You will type it each session:",
            QLineEdit.EchoMode.Password)
        if not ok or not first:
            return None
        again, ok = QInputDialog.getText(parent, "Confirm the passphrase",
                                         "Type the same passphrase again:",
                                         QLineEdit.EchoMode.Password)
        if not ok:
            return None
        if again == first and len(first) >= MIN_PASSPHRASE:
            return first
        QMessageBox.warning(parent, "Passphrase", "The two passphrases differ or are shorter "
                            f"than {MIN_PASSPHRASE} characters; try again.")
    return None


def certificate_state(ctx, profile) -> tuple[bool, bool]:
    """(whether signing creates the certificate, whether it must ask the passphrase): reads the
    certificate and the keyring, so it runs on a worker before ``signing_secret`` asks."""
    from pacs_console.core.reports.certs import creating_certificate, needs_passphrase

    if not profile.complete:
        return False, False
    data = ctx.paths.data
    return (creating_certificate(data, profile.name, profile.organisation),
            needs_passphrase(data, ctx.secrets, profile.name, profile.organisation))


def signing_secret(parent: QWidget, profile, state: tuple[bool, bool],
                   say: Callable[[str], None]):
    """None: signing needs to ask nothing; a one-argument callable answering the signing
    work's passphrase question; False: stop (``say`` has told the engineer why). ``state`` is
    what ``certificate_state`` found on a worker; only dialogs run here, on the GUI thread."""
    creating, needs = state
    if not profile.complete:
        say("Not signed: set your name and organisation first "
            "(File > Settings > Engineer profile).")
        QMessageBox.information(parent, "Engineer profile needed",
                                "Reports are signed in your name. Set your name and "
                                "organisation in File > Settings first.")
        return False
    if creating:
        answer = QMessageBox.question(
            parent, "Create your signing certificate",
            "Signing creates your personal signing certificate from your profile:\n\n"
            f"    CN={profile.name}, O={profile.organisation}\n\n"
            "Every report you sign names this person and organisation. Continue?")
        if answer != QMessageBox.StandardButton.Yes:
            say("Not signed.")
            return False
    if not needs:
        return None
    secret = ask_passphrase(parent, new=creating)
    if not secret:
        say("Not signed: the certificate's passphrase is needed.")
        return False
    return lambda _prompt: secret  # asked here, on the GUI thread
