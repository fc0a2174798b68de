"""The Qt event loop as the GUI benchmarks drive it, and the heartbeat they measure stalls with."""

from __future__ import annotations

import time
from collections.abc import Callable

TICK_MS = 5
_LOOP = None


def pump() -> None:
    """One pass of the event loop. QEventLoop.processEvents, not QApplication.processEvents:
    PySide6 6.12's static one drops a reference to None per call and crashes long loops."""
    global _LOOP
    from PySide6.QtCore import QEventLoop

    if _LOOP is None:
        _LOOP = QEventLoop()
    _LOOP.processEvents()


def pump_until(done: Callable[[], bool]) -> None:
    """Run the event loop (as an idle GUI would, 1 ms apart) until ``done()``."""
    while not done():
        pump()
        time.sleep(0.001)


def settle(passes: int) -> None:
    """A few more passes, 5 ms apart, for the last queued signals (rows, arrivals) to land."""
    for _ in range(passes):
        pump()
        time.sleep(0.005)


class Heartbeat:
    """A QTimer ticking every ``TICK_MS`` on the GUI thread while started: the longest gap
    between two ticks, less one period, is the longest the GUI stalled meanwhile."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.ticks: list[float] = []
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def max_stall_ms(self) -> float:
        gaps = [b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False)]
        return max(0.0, max(gaps) * 1000 - TICK_MS)
