"""Has anyone changed the database? One cheap question, asked of SQLite on its own connection.

``PRAGMA data_version`` changes whenever another connection commits: this process's pool,
a CLI in another process, a sync, the Storage SCP's records. Reading it touches no table and
takes no lock a writer waits on, so a window can ask it on a timer.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)


class ChangeWatch:
    """``changed()`` is True on the first successful look and after any commit since the last.

    The connection is opened on first use, only once the database file exists (a watch never
    creates it), and never writes, so every commit it sees is someone else's.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._last: int | None = None

    def version(self) -> int | None:
        """The current data version, or None when the database cannot be read just now."""
        try:
            if self._connection is None:
                if not self.path.exists():
                    return None
                # timeout=0: a momentarily busy file is "ask again later", never a wait.
                self._connection = sqlite3.connect(self.path, timeout=0, isolation_level=None,
                                                   check_same_thread=False)
            return int(self._connection.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as exc:
            log.debug("data_version of %s unavailable: %s", self.path, exc)
            self.close()
            return None

    def changed(self) -> bool:
        version = self.version()
        if version is None or version == self._last:
            return False
        self._last = version
        return True

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
