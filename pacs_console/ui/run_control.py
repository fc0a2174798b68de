"""One long core run started from a widget, written once: the start buttons off and Cancel on
while it runs on a worker (ui/workers.py), the progress bar busy until the first counted step,
the steps shown, cancel, and how it ended said. Every test tab (testbench/run_tab.py), the
discovery sweep and the security assessment run this way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from pacs_console.ui import workers


class RunControl:
    """Mixed into a QWidget (before it: ``class Tab(RunControl, QWidget)``). The widget sets
    ``start_buttons`` (enabled when idle), ``cancel_button`` (``run_buttons`` makes both) and
    ``progress`` (each optional) and ``status`` (a label, unless it overrides ``say``), and
    calls ``launch``; it overrides ``on_done`` and, if it wants, ``on_error``,
    ``cancelled_text`` and ``after_run``."""

    worker: workers.Worker | None = None
    start_buttons: tuple[QPushButton, ...] = ()
    cancel_button: QPushButton | None = None
    progress: QProgressBar | None = None
    status: QLabel
    error_text = "The run stopped on an unexpected error"
    cancelling_text = "Cancelling…"
    busy_text = ""  # said as a run starts, and while a progress step has no message

    def run_buttons(self, text: str, slot: Callable[[], None], name: str = "",
                    cancel_text: str = "Cancel") -> tuple[QPushButton, QPushButton]:
        """The widget's start button (``text``, calling ``slot``) and its Cancel
        (``cancel_text``), as idle; with ``name``, their objectNames are ``name-run`` and
        ``name-cancel``."""
        start, cancel = self.start_button_for(text, slot), QPushButton(cancel_text)
        cancel.clicked.connect(lambda: self.cancel())
        cancel.setEnabled(False)
        if name:
            start.setObjectName(f"{name}-run")
            cancel.setObjectName(f"{name}-cancel")
        self.cancel_button = cancel
        return start, cancel

    def start_button_for(self, text: str, slot: Callable[[], None]) -> QPushButton:
        """The button that starts the widget's run (disabled while it runs)."""
        start = QPushButton(text)
        start.clicked.connect(lambda: slot())
        self.start_buttons = (start,)
        return start

    @property
    def running(self) -> bool:
        return self.worker is not None

    def say(self, text: str) -> None:
        """Where the widget tells the person what happens (its status line unless overridden)."""
        self.status.setText(text)

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
        raise NotImplementedError

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
