"""Status bar: local Storage SCP (click to start/stop), demo PACS, helpdesk, sync, secrets.

Messages (``showMessage``) show in a label that takes the room the permanent widgets leave and
is elided to it, the full text in its tooltip: QStatusBar's own message is cut off mid-word.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QToolButton, QWidget

from pacs_console.core.context import Context

log = logging.getLogger(__name__)


class ElidedLabel(QLabel):
    """One line that fits whatever width it gets: elided with "…", the full text in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)

    def set_full_text(self, text: str) -> None:
        self.full = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width() - 2 * self.margin()
        self.setText(self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight,
                                                   max(room, 0)))


class ConsoleStatusBar(QStatusBar):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.received = 0
        self.scp_button = QToolButton()
        self.scp_button.setObjectName("scp-state")
        self.scp_button.setAutoRaise(True)
        self.scp_button.setToolTip("Local Storage SCP that receives C-MOVE and C-STORE: click to "
                                   "start or stop")
        self.scp_button.clicked.connect(self.toggle_scp)
        self.demo_label = QLabel("Demo PACS: off")
        self.demo_label.setObjectName("demo-state")
        self.connectivity_label = QLabel("Helpdesk: not configured")
        self.connectivity_label.setObjectName("connectivity-state")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("pending-sync")
        self.secrets_label = QLabel("Secrets: …")
        self.secrets_label.setObjectName("secrets-state")
        self.message_label = ElidedLabel()
        self.message_label.setObjectName("status-message")
        self.addWidget(self.message_label, 1)
        self.message_timer = QTimer(self)
        self.message_timer.setSingleShot(True)
        self.message_timer.timeout.connect(self.clearMessage)
        for widget in (self.scp_button, self.demo_label, self.connectivity_label, self.pending_label,
                       self.secrets_label):
            self.addPermanentWidget(widget)
        self.set_pending(0)
        self.update_scp()
        # Probing the keyring costs ~0.3 s (D-Bus on Linux): off the GUI thread, after start-up.
        QTimer.singleShot(800, self.check_keyring)

    # QStatusBar's own message hides the label and is cut off without a tooltip: these replace
    # it for every caller in Python (Qt's status tips for menu items still use its own).
    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 - Qt's name
        self.message_label.set_full_text(text)
        if timeout > 0:
            self.message_timer.start(timeout)
        else:
            self.message_timer.stop()

    def clearMessage(self) -> None:  # noqa: N802 - Qt's name
        self.message_timer.stop()
        self.message_label.set_full_text("")

    def currentMessage(self) -> str:  # noqa: N802 - Qt's name
        return self.message_label.full

    def check_keyring(self) -> None:
        from pacs_console.core.secrets import keyring_status
        from pacs_console.ui import workers

        workers.start(keyring_status, on_result=self.show_keyring_status)

    def show_keyring_status(self, status) -> None:
        """Say where secrets live; without a secure keyring, say it loudly once at start."""
        if status.secure:
            self.secrets_label.setText("Secrets: OS keyring")
            self.secrets_label.setToolTip(f"Secrets are kept in the OS keyring ({status.name})")
            return
        self.secrets_label.setText("Secrets: this session only")
        self.secrets_label.setToolTip(
            f"No secure keyring: {status.reason}. Passwords and tokens are asked for once per "
            "session and kept in memory only; they are never written to a file.")
        self.showMessage("No secure keyring: secrets stay in memory for this session only", 30000)

    def update_scp(self) -> None:
        scp, settings = self.ctx.scp, self.ctx.settings
        if scp is not None and scp.running:
            text = f"Storage SCP: listening {scp.ae_title}:{scp.port} · {self.received} received"
            if scp.accepts_any:
                text += " · accepts any calling AE"
        else:
            port = settings.scp_port or "any free port"
            text = f"Storage SCP: stopped ({settings.ae_title}:{port})"
        self.scp_button.setText(text)

    def toggle_scp(self) -> None:
        scp = self.ctx.storage_scp()
        if scp.running:
            scp.stop()
        else:
            try:
                scp.start()
            except OSError as exc:
                self.showMessage(
                    f"Storage SCP could not listen on port {scp.port}: {exc.strerror or exc}. "
                    "Another program may use the port (change it in Settings), or ports below "
                    "1024 need administrator rights.", 15000)
                log.error("Storage SCP failed to start: %s", exc)
        self.update_scp()

    def on_arrivals(self, batch: list) -> None:
        stored = sum(1 for item in batch if hasattr(item, "sop_instance_uid"))
        if stored:
            self.received += stored
            self.update_scp()

    def set_demo(self, text: str) -> None:
        self.demo_label.setText(f"Demo PACS: {text}")

    def set_connectivity(self, text: str) -> None:
        self.connectivity_label.setText(f"Helpdesk: {text}")

    def set_pending(self, count: int) -> None:
        """``count``: items not at the helpdesk yet (pending, in flight or failed)."""
        self.pending_label.setText(f"Sync: {count} not delivered" if count else "Sync: 0 pending")
