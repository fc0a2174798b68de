"""What every test tab does around its run, written once: pick the node, start the core
generator on a worker, switch the buttons, show its progress, cancel, say how it ended, save
the run, and the parts each tab shows (a status line, a log, a chart over a log a person can
resize). Tabs that pick their nodes in their own boxes build on it in run_parts.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.bridge import QueueBridge


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


class RunTab(QWidget):
    """Base of the test tabs. A subclass builds its form, sets ``start_buttons`` (enabled when
    idle), ``cancel_button`` and ``progress`` (optional), ``status`` and ``error_text``, and
    calls ``launch``; it overrides ``on_done`` and, if it wants, ``cancelled_text``."""

    run_saved = Signal(object)
    error_text = "The run stopped on an unexpected error"
    cancelling_text = "Cancelling…"
    busy_text = ""  # said as a run starts, and while a progress step has no message

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.panel = ctx, panel
        self.worker: workers.Worker | None = None
        self.start_buttons: tuple[QPushButton, ...] = ()
        self.cancel_button: QPushButton | None = None
        self.progress: QProgressBar | None = None
        self.status: QLabel  # built by the subclass (status_line), unless it overrides say()

    def run_buttons(self, text: str, slot: Callable[[], None],
                    name: str = "") -> tuple[QPushButton, QPushButton]:
        """The tab's start button (``text``, calling ``slot``) and its Cancel, as idle; with
        ``name``, their objectNames are ``name-run`` and ``name-cancel``."""
        start, cancel = self.start_button_for(text, slot), QPushButton("Cancel")
        cancel.clicked.connect(lambda: self.cancel())
        cancel.setEnabled(False)
        if name:
            start.setObjectName(f"{name}-run")
            cancel.setObjectName(f"{name}-cancel")
        self.cancel_button = cancel
        return start, cancel

    def start_button_for(self, text: str, slot: Callable[[], None]) -> QPushButton:
        """The button that starts the tab's run (disabled while it runs)."""
        start = QPushButton(text)
        start.clicked.connect(lambda: slot())
        self.start_buttons = (start,)
        return start

    @property
    def running(self) -> bool:
        return self.worker is not None

    def say(self, text: str) -> None:
        """Where the tab tells the person what happens (its status line unless overridden)."""
        self.status.setText(text)

    def node_to_test(self):
        """The node picked in the address book, or None (said) when none is or a run is on."""
        node = self.panel.selected_node()
        if node is None or self.worker is not None:
            self.say("Select a node in the address book first.")
            return None
        return node

    def launch(self, fn: Callable[..., Any], *args: Any,
               on_progress: Callable[[Any], None] | None = None,
               on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None,
               **kwargs: Any) -> workers.Worker:
        """Run ``fn`` (a core generator) on a worker; the buttons follow until it finishes and
        the progress bar is busy until the first counted step. Progress goes to ``show_step``,
        the result to ``on_done`` and a failure to ``on_error`` unless others are given."""
        if self.progress is not None:
            self.progress.setRange(0, 0)
        if self.busy_text:
            self.say(self.busy_text)
        self.worker = workers.start(fn, *args, on_progress=on_progress or self.show_step,
                                    on_result=on_result or self.on_done,
                                    on_error=on_error or self.on_error,
                                    on_finished=self._finished, **kwargs)
        self.set_running(True)
        return self.worker

    def show_step(self, step) -> None:
        """A core ``Progress`` step: counted on the progress bar, its message said."""
        if step.total and self.progress is not None:
            self.progress.setRange(0, step.total)
            self.progress.setValue(step.done)
        self.say(step.message or self.busy_text)

    def follow_events(self, slot: Callable[[list], None]):
        """A queue a server thread puts events in; ``slot`` gets them in batches on this thread."""
        import queue

        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.bridge = QueueBridge(self.queue, parent=self)
        self.bridge.received.connect(slot)
        return self.queue

    def set_running(self, running: bool) -> None:
        for button in self.start_buttons:
            button.setEnabled(not running)
        if self.cancel_button is not None:
            self.cancel_button.setEnabled(running)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.say(self.cancelling_text)

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

    def on_error(self, exc: Exception) -> None:
        self.say(f"{self.error_text}: {exc}")

    def cancelled_text(self) -> str:
        """What to say after a cancel (no result comes then); empty: leave the status alone."""
        return ""

    def _finished(self) -> None:
        if self.worker is not None and self.worker.cancelled and self.cancelled_text():
            self.say(self.cancelled_text())
        self.worker = None
        self.set_running(False)
        self.after_run()

    def after_run(self) -> None:
        """A busy (0, 0) progress bar left by a run that never said its total stops spinning."""
        if self.progress is not None and self.progress.maximum() == 0:
            self.progress.setRange(0, 1)


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
