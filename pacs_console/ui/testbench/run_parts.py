"""What every long-running testbench view shares: Run and Cancel, a progress bar and a status
line around one worker (ui/workers.py), and a row of labelled inputs."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from pacs_console.core.context import Context
from pacs_console.ui import workers


def row_of(*widgets) -> QHBoxLayout:
    """One row: texts become labels, widgets stay, a stretch after the last."""
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(QLabel(widget) if isinstance(widget, str) else widget)
    row.addStretch(1)
    return row


class RunnerWidget(QWidget):
    """Run and Cancel buttons, a progress bar and a status line around one worker."""

    run_saved = Signal(object)
    busy_text = ""
    stopping_text = "Stopping…"

    def __init__(self, ctx: Context, panel, prefix: str, run_text: str) -> None:
        super().__init__()
        self.ctx, self.panel, self.worker = ctx, panel, None
        self.run_button = QPushButton(run_text)
        self.run_button.setObjectName(f"{prefix}-run")
        self.run_button.clicked.connect(lambda: self.start())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName(f"{prefix}-cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(lambda: self.cancel())
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setObjectName(f"{prefix}-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def follow_address_book(self) -> None:
        """Offer the address book's names at once when it changes above (refresh_nodes)."""
        table = getattr(self.panel, "table", None)
        if table is not None:
            # One refresh after the table settles: filling it emits a signal per cell, and a
            # refresh per cell of a 10,000-node import never finished.
            self._nodes_timer = QTimer(self)
            self._nodes_timer.setSingleShot(True)
            self._nodes_timer.setInterval(0)
            self._nodes_timer.timeout.connect(self.refresh_nodes)
            model = table.model()
            for signal in (model.rowsInserted, model.rowsRemoved, model.dataChanged):
                signal.connect(lambda *_: self._nodes_timer.start())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh_nodes()

    def refresh_nodes(self) -> None:
        raise NotImplementedError

    def node_names(self) -> list[str]:
        return [n.name for n in getattr(self.panel, "nodes", [])]

    def fill_combo(self, combo: QComboBox, preferred: int = 0) -> None:
        current, names = combo.currentText(), self.node_names()
        if names == [combo.itemText(i) for i in range(combo.count())]:
            return
        combo.clear()
        combo.addItems(names)
        if current in names:
            combo.setCurrentText(current)
        elif names:
            combo.setCurrentIndex(min(preferred, len(names) - 1))

    def launch(self, fn, *args) -> None:
        self.progress.setRange(0, 0)  # busy until the first counted step
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(self.busy_text)
        self.worker = workers.start(fn, self.ctx, *args, on_progress=self._progress,
                                    on_result=self._result, on_error=self._failed,
                                    on_finished=self._finished)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText(self.stopping_text)

    def _progress(self, step) -> None:
        if step.total:
            self.progress.setRange(0, step.total)
            self.progress.setValue(step.done)
        self.status.setText(step.message)

    def _result(self, outcome) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.show_outcome(outcome)
        if outcome is not None:
            self.run_saved.emit(outcome)

    def _failed(self, exc: Exception) -> None:
        diagnosis = getattr(exc, "diagnosis", None)
        self.status.setText(diagnosis.text() if diagnosis else f"Unexpected error: {exc}")

    def _finished(self) -> None:
        if self.worker is not None and self.worker.cancelled:
            self.status.setText("Cancelled: no result saved.")
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        self.worker = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def start(self) -> None:
        raise NotImplementedError

    def show_outcome(self, outcome) -> None:
        raise NotImplementedError
