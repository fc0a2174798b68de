"""What the window's own thread asks of the database while a journey runs: every SQL statement
run on the GUI thread with console code (pacs_console/ui) on the stack. The window must run
none: reads and writes belong on workers, or the window freezes while they run. (The change
watch's PRAGMA goes through its own sqlite3 connection, not SQLAlchemy, and is not counted.)
Likewise every file Python opens on the GUI thread with console code on the stack
(``gui_thread_opens``, from the interpreter's "open" audit event; Qt's own C++ file reads,
such as QSettings and icons, do not pass through it)."""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def gui_thread_sql() -> Iterator[list[str]]:
    """Yields the list the statements are added to ("ui/file.py:line SQL…")."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        frames = [f for f in traceback.extract_stack() if "/pacs_console/ui/" in f.filename]
        if frames:
            where = frames[-1]
            seen.append(f"{where.filename.split('pacs_console/')[-1]}:{where.lineno} "
                        f"{' '.join(statement.split())[:70]}")

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


_OPENS: list[list[str]] = []  # the lists of the gui_thread_opens blocks now running
_HOOKED = False


def _ui_frame() -> str | None:
    """"ui/file.py:line" of the innermost console UI frame on the stack, without reading any
    source (linecache would open files from inside the hook). None for an import's reads of
    modules (a lazy import is not the window reading data)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith("<frozen importlib"):
            return None
        if "/pacs_console/ui/" in name:
            return f"{name.split('pacs_console/')[-1]}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _audit(event: str, args: tuple) -> None:
    if event != "open" or not _OPENS or threading.current_thread() is not threading.main_thread():
        return
    where = _ui_frame()
    if where is not None:
        for seen in _OPENS:
            seen.append(f"{where} open {args[0]!s:.80}")


# Known and left for their own change (none left: the Sync panel's network watch, which read
# /proc/net/dev on a timer, now reads it on a worker).
NOT_YET: tuple[str, ...] = ()


def besides_known(opened: list[str]) -> list[str]:
    """The opens recorded, less the known ones of NOT_YET."""
    return [o for o in opened if not o.startswith(NOT_YET)]


@contextmanager
def gui_thread_opens() -> Iterator[list[str]]:
    """Yields the list the files opened are added to ("ui/file.py:line open PATH")."""
    global _HOOKED
    if not _HOOKED:  # an audit hook cannot be removed: one for the session, idle outside blocks
        sys.addaudithook(_audit)
        _HOOKED = True
    seen: list[str] = []
    _OPENS.append(seen)
    try:
        yield seen
    finally:
        _OPENS.remove(seen)
