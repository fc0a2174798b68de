"""Threading: worker results reach the GUI thread, cancel stops work, the bridge drains queues.

Unit tests of pacs_console/ui/workers.py and bridge.py with plain functions and QObjects: the
plumbing under the panels, not a GUI test (no window is driven here)."""

from __future__ import annotations

import queue
import sys
import threading
import time

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from pacs_console.core.models import Progress
from pacs_console.ui import workers
from pacs_console.ui.bridge import QueueBridge


def _on_gui_thread() -> bool:
    return QThread.currentThread() is QApplication.instance().thread()


def counting(n: int, seen_threads: list):
    seen_threads.append(threading.current_thread().name)
    for i in range(n):
        yield Progress(i + 1, n, f"step {i + 1}")
    return "all done"


def test_progress_and_result_arrive_on_the_gui_thread(qtbot):
    progress, results, threads, gui = [], [], [], []
    worker = workers.start(
        counting, 5, threads,
        on_progress=lambda p: (progress.append(p.done), gui.append(_on_gui_thread())),
        on_result=lambda r: (results.append(r), gui.append(_on_gui_thread())))
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results == ["all done"] and progress == [1, 2, 3, 4, 5]
    assert all(gui) and threads[0] != threading.main_thread().name
    assert worker.done.wait(2)


def test_plain_functions_return_their_value(qtbot):
    results = []
    workers.start(lambda a, b: a + b, 2, 3, on_result=results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results == [5]


def test_errors_are_signalled_not_raised(qtbot):
    def broken():
        raise ValueError("peer said no")
        yield  # pragma: no cover

    errors = []
    worker = workers.start(broken, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ValueError) and str(errors[0]) == "peer said no"
    assert worker.done.wait(2)


def test_cancel_stops_the_generator_and_runs_its_cleanup(qtbot):
    state = {"steps": 0, "closed": False}
    results = []

    def endless():
        try:
            while True:
                state["steps"] += 1
                time.sleep(0.01)
                yield Progress(state["steps"])
        finally:
            state["closed"] = True

    worker = workers.start(endless, on_result=results.append)
    qtbot.waitUntil(lambda: state["steps"] >= 3, timeout=5000)
    with qtbot.waitSignal(worker.signals.finished, timeout=5000):
        worker.cancel()
    steps_at_cancel = state["steps"]
    time.sleep(0.1)
    assert state["closed"] and worker.cancelled and results == []
    assert state["steps"] <= steps_at_cancel + 1


def test_bridge_delivers_items_put_by_other_threads_on_the_gui_thread(qtbot):
    source: queue.SimpleQueue = queue.SimpleQueue()
    bridge = QueueBridge(source, interval_ms=10)
    received, gui = [], []

    def on_batch(batch):
        received.extend(batch)
        gui.append(_on_gui_thread())

    bridge.received.connect(on_batch)
    producers = [threading.Thread(target=lambda k=k: [source.put((k, i)) for i in range(500)])
                 for k in range(4)]
    for thread in producers:
        thread.start()
    for thread in producers:
        thread.join()
    qtbot.waitUntil(lambda: len(received) == 2000, timeout=5000)
    assert all(gui) and len(set(received)) == 2000
    bridge.stop()


def test_bridge_batches_respect_the_limit(qtbot):
    source: queue.SimpleQueue = queue.SimpleQueue()
    for i in range(250):
        source.put(i)
    bridge = QueueBridge(source, interval_ms=10_000, max_batch=100)
    sizes = []
    bridge.received.connect(lambda batch: sizes.append(len(batch)))
    assert bridge.drain() == 100 and bridge.drain() == 100 and bridge.drain() == 50
    assert sizes == [100, 100, 50] and bridge.drain() == 0
    bridge.stop()


def test_emitting_does_not_leak_references_to_true(qtbot):
    """PySide6 6.12.0's emit() decremented True's refcount on every call; hours of progress
    signals (a continuous echo) then brought it to zero and the app died. pyproject excludes
    that release; this catches a later one with the same fault."""
    signals = workers.WorkerSignals()
    signals.progress.connect(lambda _item: None)
    before = sys.getrefcount(True)
    for _ in range(200):  # few enough that a leaking release fails here instead of aborting
        signals.progress.emit(1)
    assert sys.getrefcount(True) - before > -100


def test_start_up_holds_other_work_until_it_releases(qtbot):
    """While held, work waits (in order) for the one start-up task; cancel_all drops it."""
    order: list[str] = []
    gate = threading.Event()

    def start_up() -> str:
        gate.wait(5)
        order.append("start-up")
        return "ready"

    workers.hold()
    try:
        first = workers.start(order.append, "address book")
        workers.start(start_up, before_held=True, on_finished=workers.release)
        second = workers.start(order.append, "sync counts")
        time.sleep(0.2)
        assert order == [] and not first.done.is_set()  # nothing ran beside the start-up
        gate.set()
        qtbot.waitUntil(lambda: first.done.is_set() and second.done.is_set(), timeout=5000)
        assert order[0] == "start-up" and set(order[1:]) == {"address book", "sync counts"}
        # Work queued behind a start-up that never finishes is dropped at quit, not waited for.
        workers.hold()
        never = workers.start(order.append, "never")
        began = time.monotonic()
        workers.cancel_all(timeout_s=5)
        assert time.monotonic() - began < 1 and not never.done.is_set()
        assert "never" not in order
    finally:
        workers.release()


def test_results_for_a_receiver_deleted_meanwhile_are_dropped(qtbot):
    """A panel closed while its work ran: the result, error and finished callbacks bound to its
    (now deleted) QObject are dropped instead of raising on a dead C++ object."""
    import shiboken6
    from PySide6.QtCore import QObject, QThreadPool

    class Receiver(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list = []

        def took(self, value) -> None:
            self.seen.append(value)

    gate = threading.Event()

    def slow() -> str:
        gate.wait(5)
        return "late"

    def failing() -> None:
        gate.wait(5)
        raise ValueError("late failure")

    gone, alive = Receiver(), Receiver()
    workers.start(slow, on_result=gone.took, on_finished=lambda: None)
    workers.start(failing, on_error=gone.took)
    workers.start(slow, on_result=alive.took)
    shiboken6.delete(gone)
    gate.set()
    assert QThreadPool.globalInstance().waitForDone(5000)
    qtbot.waitUntil(lambda: alive.seen == ["late"], timeout=5000)
    for _ in range(5):  # deliver anything still queued: nothing may raise
        QApplication.processEvents()
