"""Test tabs that pick what they run on in their own boxes (an archive, a primary and its DR
copy, a site) rather than the node selected above. The run plumbing is RunTab's
(run_tab.py); this adds the boxes that follow the address book and the way these runs end:
the core returns the record it saved, which the tab shows and hands on."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QProgressBar

from pacs_console.core.context import Context
from pacs_console.ui.testbench.run_tab import RunTab, status_line


class PickerTab(RunTab):
    """A RunTab with Run and Cancel (objectNames ``prefix-run`` and ``prefix-cancel``), a
    progress bar and a selectable status line (``prefix-status``). A subclass lays them out,
    fills its boxes in ``refresh_nodes`` (called when it shows), starts in ``start`` and shows
    the saved record in ``show_outcome``."""

    error_text = "Unexpected error"
    cancelling_text = "Stopping…"

    def __init__(self, ctx: Context, panel, prefix: str, run_text: str) -> None:
        super().__init__(ctx, panel)
        self.run_button, self.cancel_button = self.run_buttons(run_text, self.start, prefix)
        self.progress = QProgressBar()
        self.status = status_line(f"{prefix}-status", selectable=True)

    def node_box(self, name: str, width: int) -> QComboBox:
        """A box of the address book's nodes (``name`` is its objectName), filled in
        ``refresh_nodes``; the tab then follows the address book."""
        if not hasattr(self, "_nodes_timer"):
            self.follow_address_book()
        box = QComboBox()
        box.setObjectName(name)
        box.setMinimumWidth(width)
        return box

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
            for signal in (model.rowsInserted, model.rowsRemoved, model.dataChanged,
                           model.modelReset):
                signal.connect(lambda *_: self._nodes_timer.start())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh_nodes()

    def refresh_nodes(self) -> None:
        raise NotImplementedError

    def fill_combo(self, combo: QComboBox, preferred: int = 0) -> None:
        """The address book's node names in ``combo``, keeping the choice made."""
        current = combo.currentText()
        names = [n.name for n in getattr(self.panel, "nodes", [])]
        if names == [combo.itemText(i) for i in range(combo.count())]:
            return
        combo.clear()
        combo.addItems(names)
        if current in names:
            combo.setCurrentText(current)
        elif names:
            combo.setCurrentIndex(min(preferred, len(names) - 1))

    def start(self) -> None:
        raise NotImplementedError

    def on_done(self, outcome) -> None:
        """The record the core saved: the bar full, the record shown and handed on."""
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.show_outcome(outcome)
        if outcome is not None:
            self.run_saved.emit(outcome)

    def show_outcome(self, outcome) -> None:
        raise NotImplementedError

    def on_error(self, exc: Exception) -> None:
        diagnosis = getattr(exc, "diagnosis", None)
        self.say(diagnosis.text() if diagnosis else f"{self.error_text}: {exc}")

    def cancelled_text(self) -> str:
        return "Cancelled: no result saved."
