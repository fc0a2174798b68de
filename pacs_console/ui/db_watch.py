"""Views that stay current: one timer asks the database whether anything changed, and the
views that follow it reload off the GUI thread, at once if shown, else when next shown."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, SignalInstance
from PySide6.QtWidgets import QWidget

from pacs_console.core.context import Context
from pacs_console.core.db.watch import ChangeWatch


class DataWatch(QObject):
    """Emits ``data_changed`` within ``interval_ms`` of any commit, by any process.

    The database is never opened from here: until background work has opened it, there is
    nothing to watch. Each look is one PRAGMA on a private connection (microseconds).
    """

    data_changed = Signal()

    def __init__(self, ctx: Context, interval_ms: int = 400,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.watch = ChangeWatch(ctx.paths.database)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def poll(self) -> bool:
        if not self.ctx.db_opened:
            return False
        if self.watch.changed():
            self.data_changed.emit()
            return True
        return False

    def stop(self) -> None:
        self.timer.stop()
        self.watch.close()


class _Follower(QObject):
    def __init__(self, widget: QWidget, reload: Callable[[], None], stale: bool) -> None:
        super().__init__(widget)
        self.widget, self.reload, self.stale = widget, reload, stale
        widget.installEventFilter(self)

    def changed(self) -> None:
        if self.widget.isVisible():
            self.stale = False
            self.reload()
        else:
            self.stale = True  # no work for what nobody sees

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is self.widget and event.type() == QEvent.Type.Show and self.stale:
            self.stale = False
            QTimer.singleShot(0, self.reload)
        return False


def follow(changes: SignalInstance, widget: QWidget, reload: Callable[[], None], *,
           stale: bool = False) -> None:
    """Call ``reload`` (which starts its own worker) on every change while ``widget`` is shown;
    a hidden widget reloads once when it is next shown (also the first time, if ``stale``)."""
    follower = _Follower(widget, reload, stale)
    changes.connect(follower.changed)
