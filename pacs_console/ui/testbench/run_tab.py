"""What every test tab shares: the run plumbing (ui/run_control.py) on the node picked above,
saving the run, and the parts each tab shows (a status line, a log, a chart over a log a
person can resize, a server switch, sections as sub-tabs). Tabs that pick their nodes in their
own boxes build on it in run_parts.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.bridge import QueueBridge
from pacs_console.ui.run_control import RunControl


def status_line(name: str, text: str = "", selectable: bool = False) -> QLabel:
    """The wrapped status label under a tab's buttons (``name`` is its objectName); a
    ``selectable`` one lets a person copy its text."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def output_box(name: str = "", placeholder: str = "") -> QPlainTextEdit:
    """A read-only text area for results and events (``name`` is its objectName)."""
    box = QPlainTextEdit()
    box.setReadOnly(True)
    if name:
        box.setObjectName(name)
    if placeholder:
        box.setPlaceholderText(placeholder)
    return box


def log_box(placeholder: str, max_lines: int = 2000) -> QPlainTextEdit:
    """A read-only log that keeps its last ``max_lines`` lines."""
    log = output_box(placeholder=placeholder)
    log.setMaximumBlockCount(max_lines)
    return log


def port_box(name: str, value: int, minimum: int = 0) -> QSpinBox:
    """A TCP port field (0, where allowed, lets the OS choose)."""
    box = QSpinBox()
    box.setObjectName(name)
    box.setRange(minimum, 65535)
    box.setValue(value)
    return box


class RunTab(RunControl, QWidget):
    """Base of the test tabs: the run plumbing of RunControl on the node picked above. A
    subclass builds its form (``run_buttons`` gives Run and Cancel), sets ``status`` and
    ``error_text``, and calls ``launch``; a ``(result, run)`` outcome is reported and the run
    handed on (``run_saved``) unless it overrides ``on_done``."""

    run_saved = Signal(object)

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.panel = ctx, panel

    def node_to_test(self):
        """The node picked in the address book, or None (said) when none is or a run is on."""
        node = self.panel.selected_node()
        if node is None or self.worker is not None:
            self.say("Select a node in the address book first.")
            return None
        return node

    def follow_events(self, slot: Callable[[list], None]):
        """A queue a server thread puts events in; ``slot`` gets them in batches on this thread."""
        import queue

        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.bridge = QueueBridge(self.queue, parent=self)
        self.bridge.received.connect(slot)
        return self.queue

    def on_done(self, outcome) -> None:
        """A ``(result, run)`` outcome: its summary and diagnosis said, the run saved."""
        result, run = outcome
        self.report(result, run)

    def report(self, result, run, text: str = "") -> str:
        text = text or result.summary()
        if getattr(result, "diagnosis", None) is not None:
            text += "\n" + result.diagnosis.text()
        self.say(text)
        if run is not None:
            self.run_saved.emit(run)
        return text


class SectionsTab(QWidget):
    """A test tab made of sections, each a sub-tab of its own (``sections``); the runs they
    save are handed on as this tab's."""

    run_saved = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sections = QTabWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sections)

    def add_section(self, section: RunTab, title: str) -> RunTab:
        self.sections.addTab(section, title)
        section.run_saved.connect(self.run_saved)
        return section


class ServerSwitch:
    """A button that starts a server on its own threads (the HL7 listener, the site SCP) and
    stops it again. ``start()`` returns the started server and the line to log; the port box
    then shows the port it took (0 asks the OS for one)."""

    def __init__(self, button: QPushButton, port: QSpinBox, log: QPlainTextEdit,
                 start: Callable[[], tuple[Any, str]], running_text: str,
                 failed: Callable[[Exception], str]) -> None:
        self.button, self.port, self.log = button, port, log
        self.start, self.failed = start, failed
        self.idle_text, self.running_text = button.text(), running_text
        self.server = None
        button.clicked.connect(lambda: self.toggle())

    def toggle(self) -> None:
        if self.server is not None:
            self.stop()
            return
        try:
            self.server, started = self.start()
        except (OSError, ValueError) as exc:
            self.log.appendPlainText(self.failed(exc))
            return
        self.port.setValue(self.server.port)
        self.button.setText(self.running_text)
        self.log.appendPlainText(started)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
            self.button.setText(self.idle_text)
