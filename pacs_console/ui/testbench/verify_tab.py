"""Verify tab: C-ECHO once or continuously, with a live plot of connect, association and round trip."""

from __future__ import annotations

import threading
import time

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.testbench.run_tab import RunTab, log_box, status_line
from pacs_console.ui.widgets.live_plot import LivePlot
from pacs_console.ui.widgets.panel_parts import resizable

SERIES = ("TCP connect", "association", "C-ECHO round trip")


class VerifyTab(RunTab):
    error_text = "Echo stopped by an unexpected error"

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        self.count = QSpinBox()
        self.count.setObjectName("echo-count")
        self.count.setRange(0, 1_000_000)
        self.count.setValue(10)
        self.count.setSpecialValueText("until stopped")
        self.interval = QDoubleSpinBox()
        self.interval.setObjectName("echo-interval")
        self.interval.setRange(0.0, 3600.0)
        self.interval.setValue(1.0)
        self.interval.setSuffix(" s")
        self.interval.setToolTip("0 = back to back")
        self.once_button = QPushButton("C-ECHO once")
        self.once_button.clicked.connect(lambda: self.start(1))
        self.series_button = QPushButton("Start continuous")
        self.series_button.clicked.connect(lambda: self.start(self.count.value() or None))
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.start_buttons, self.cancel_button = (self.once_button, self.series_button), self.stop_button
        self.stats = status_line("echo-stats", "No echo yet.")
        self.plot = LivePlot("C-ECHO latency", SERIES, "Latency (ms)", "Time since start (s)")
        self.log = log_box("Pick a node above, then press C-ECHO once (or Start continuous). "
                           "Each echo is logged here.")
        buttons = QHBoxLayout()
        buttons.addWidget(self.once_button)
        buttons.addSpacing(16)
        for label, widget in (("Count", self.count), ("every", self.interval)):
            buttons.addWidget(QLabel(label))
            buttons.addWidget(widget)
        for button in (self.series_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.stats)
        # The person decides chart vs log.
        self.output = resizable(self.plot, self.log, stretch=(3, 1))
        layout.addWidget(self.output, 1)
        self._stop = threading.Event()
        self._t0 = 0.0
        self._sent = self._ok = 0

    def say(self, text: str) -> None:
        self.log.appendPlainText(text)

    def start(self, count: int | None) -> None:
        node = self.node_to_test()
        if node is None:
            return
        from pacs_console.core.db.testruns import run_recorded
        from pacs_console.core.dicom.ops.echo import echo_series
        from pacs_console.core.dicom.wire.target import Target

        target = Target.from_node(node, self.ctx.settings)
        self._stop = threading.Event()
        self._t0, self._sent, self._ok = time.perf_counter(), 0, 0
        self.plot.clear()
        self.log.appendPlainText(f"C-ECHO {target.label} from {target.calling_ae} "
                                 f"({'until stopped' if count is None else count} × every "
                                 f"{self.interval.value():g} s)")
        operation = echo_series(target, count, self.interval.value(), stop=self._stop)
        self.launch(run_recorded, self.ctx.db, node.id, operation, on_progress=self.on_echo)

    def stop(self) -> None:
        # The stop event (not Worker.cancel) lets the series finish and return its statistics.
        self._stop.set()

    def on_echo(self, result) -> None:
        x = time.perf_counter() - self._t0
        self._sent += 1
        if result.ok:
            self._ok += 1
            self.plot.append(SERIES[0], x, result.connect_ms)
            self.plot.append(SERIES[1], x, result.associate_ms)
            self.plot.append(SERIES[2], x, result.echo_ms)
            self.log.appendPlainText(
                f"#{self._sent} OK  connect {result.connect_ms:.1f} ms, associate "
                f"{result.associate_ms:.1f} ms, echo {result.echo_ms:.1f} ms")
        else:
            self.log.appendPlainText(f"#{self._sent} FAILED  {result.diagnosis.text()}")
        loss = 100.0 * (self._sent - self._ok) / self._sent
        self.stats.setText(f"{self._sent} sent, {self._ok} OK, loss {loss:.1f} %")

    def on_done(self, outcome) -> None:
        stats, run = outcome
        rt = stats.round_trip
        text = (f"{stats.sent} sent, {stats.ok} OK, loss {stats.loss_pct:g} %")
        if rt["median"] is not None:
            text += (f" · round trip min {rt['min']} / median {rt['median']} / p95 {rt['p95']} / "
                     f"max {rt['max']} ms, jitter {rt['jitter']} ms")
        if stats.last_diagnosis is not None:
            text += "\nLast failure: " + stats.last_diagnosis.what
        self.stats.setText(text)
        if run is not None:
            self.log.appendPlainText(f"Saved as test run #{run.id}.")
            self.run_saved.emit(run)
