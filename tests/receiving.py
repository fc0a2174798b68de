"""What a test's pynetdicom Storage SCP keeps of each C-STORE it receives."""

from __future__ import annotations

import threading

from pydicom.dataset import Dataset


class Received:
    """The datasets received (with their file meta), safe across the SCP's association
    threads; ``on_store`` is the EVT_C_STORE handler, answering Success."""

    def __init__(self) -> None:
        self.received: list[Dataset] = []
        self.lock = threading.Lock()

    def on_store(self, event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        with self.lock:
            self.received.append(ds)
        return 0x0000
