"""Drains thread-safe queues filled by pynetdicom server threads, on the GUI thread."""

from __future__ import annotations

import queue

from PySide6.QtCore import QObject, QTimer, Signal


class QueueBridge(QObject):
    """Polls ``source`` every ``interval_ms`` on the GUI thread and emits what it finds in batches.

    Server handlers only ever call ``source.put``; batching keeps a burst of thousands of
    arrivals from flooding the event loop with one signal each.
    """

    received = Signal(list)

    def __init__(self, source: queue.SimpleQueue | queue.Queue, interval_ms: int = 50,
                 max_batch: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.max_batch = max_batch
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    def drain(self) -> int:
        batch = []
        while len(batch) < self.max_batch:
            try:
                batch.append(self.source.get_nowait())
            except queue.Empty:
                break
        if batch:
            self.received.emit(batch)
        return len(batch)

    def stop(self) -> None:
        self._timer.stop()
