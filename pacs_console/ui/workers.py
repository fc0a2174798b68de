"""The one place that gives core work a thread: generators run on a pool, signals on a QObject."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """Lives in the GUI thread, so slots connected to it run there (queued connections)."""

    progress = Signal(object)
    result = Signal(object)
    error = Signal(object)
    finished = Signal()


class Worker(QRunnable):
    """Runs ``fn(*args, **kwargs)``; a generator's yields become progress, its return the result.

    Cancel is cooperative: the flag is checked between yields and the generator is closed,
    so its ``finally`` blocks release sockets and files on the worker thread.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it; _ACTIVE keeps it alive until finished
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = WorkerSignals()
        self._cancel = threading.Event()
        self.cancelled = False
        self.done = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            outcome = self.fn(*self.args, **self.kwargs)
            if inspect.isgenerator(outcome):
                outcome = self._drive(outcome)
            if not self.cancelled:
                _emit(self.signals.result, outcome)
        except Exception as exc:  # noqa: BLE001 - every failure reaches the GUI as a signal
            log.exception("Background task %s failed", getattr(self.fn, "__name__", self.fn))
            _emit(self.signals.error, exc)
        finally:
            self.done.set()
            _emit(self.signals.finished)

    def _drive(self, generator) -> Any:
        while True:
            if self._cancel.is_set():
                generator.close()
                self.cancelled = True
                return None
            try:
                item = next(generator)
            except StopIteration as stop:
                return stop.value
            if not _emit(self.signals.progress, item):
                self._cancel.set()  # the app is going away: stop at once


def _emit(signal, *args: Any) -> bool:
    """Emit, unless the app is being torn down and the signals object is already gone: a
    task finishing during exit has no one left to tell (False then)."""
    try:
        signal.emit(*args)
    except RuntimeError as exc:
        if "deleted" not in str(exc):
            raise
        return False
    return True


_ACTIVE: set[Worker] = set()
# While start-up holds the pool (see hold()), work started elsewhere waits here in order.
_HELD: list[tuple[Worker, QThreadPool | None]] | None = None


def hold() -> None:
    """Queue every start() until release(): at start-up one task opens the database (the first
    import of SQLAlchemy, pydantic and the data layer) before anything else runs, because two
    threads importing a module for the first time at once can see it half initialised."""
    global _HELD
    if _HELD is None:
        _HELD = []


def release() -> None:
    """Start, in order, the work queued since hold(); later start() calls run at once again."""
    global _HELD
    held, _HELD = _HELD or [], None
    for worker, pool in held:
        (pool or QThreadPool.globalInstance()).start(worker)


def start(
    fn: Callable[..., Any],
    *args: Any,
    on_progress: Callable[[Any], None] | None = None,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    pool: QThreadPool | None = None,
    before_held: bool = False,
    **kwargs: Any,
) -> Worker:
    """Start ``fn`` on the pool; callbacks run on the GUI thread. Keep the Worker to cancel it.

    While the pool is held (start-up) the work waits for release(), unless ``before_held``."""
    worker = Worker(fn, *args, **kwargs)
    signals = worker.signals
    for signal, callback in ((signals.progress, on_progress), (signals.result, on_result),
                             (signals.error, on_error), (signals.finished, on_finished)):
        if callback is not None:
            signal.connect(_guarded(callback))
    signals.finished.connect(lambda: _ACTIVE.discard(worker))
    _ACTIVE.add(worker)
    if _HELD is not None and not before_held:
        _HELD.append((worker, pool))
    else:
        (pool or QThreadPool.globalInstance()).start(worker)
    return worker


def _guarded(callback: Callable) -> Callable:
    """Drop results for a widget closed while its work ran (its C++ object is already gone):
    the widget of a bound method, or the widgets a lambda or local function closes over."""
    owner = getattr(callback, "__self__", None)
    owners = [owner] if isinstance(owner, QObject) else [
        cell.cell_contents for cell in getattr(callback, "__closure__", None) or ()
        if isinstance(_contents(cell), QObject)]
    if not owners:
        return callback

    def call(*args: Any) -> None:
        if all(shiboken6.isValid(o) for o in owners):
            callback(*args)

    return call


def _contents(cell) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a closure variable not assigned yet
        return None


def cancel_all(timeout_s: float = 5.0) -> None:
    """On quit: ask every worker to stop and wait a bounded time for them."""
    global _HELD
    for worker, _pool in _HELD or []:
        _ACTIVE.discard(worker)  # never started: nothing to wait for
    _HELD = None
    for worker in list(_ACTIVE):
        worker.cancel()
    for worker in list(_ACTIVE):
        worker.done.wait(timeout_s)
