"""What the window's own thread asks of the database while a journey runs: every SQL statement
run on the GUI thread with console code (pacs_console/ui) on the stack. The window must run
none: reads and writes belong on workers, or the window freezes while they run. (The change
watch's PRAGMA goes through its own sqlite3 connection, not SQLAlchemy, and is not counted.)"""

from __future__ import annotations

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
