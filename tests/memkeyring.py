"""An in-memory keyring backend for tests: secure enough for a test run, gone when it ends.

With PACS_CONSOLE_TEST_KEYRING_FILE set (tests/conftest.py sets one per test), the entries
live in that JSON file instead, so a test and the CLI processes it starts share one keyring
the way a laptop's processes share its OS keyring."""

import fcntl
import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend

FILE_ENV = "PACS_CONSOLE_TEST_KEYRING_FILE"


class MemoryKeyring(KeyringBackend):
    priority = 20  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._store: dict[tuple[str, str], str] = {}

    def _update(self, change=None):
        path = os.environ.get(FILE_ENV)
        if not path:
            if change:
                change(self._store)
            return dict(self._store)
        target = Path(path)
        with open(target.with_name(target.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = json.loads(target.read_text()) if target.exists() else {}
            except ValueError:
                data = {}
            entries = {tuple(k.split("\0", 1)): v for k, v in data.items()}
            if change:
                change(entries)
                temp = target.with_name(target.name + ".tmp")
                temp.write_text(json.dumps({"\0".join(k): v for k, v in entries.items()}))
                temp.replace(target)
            return entries

    # The test process keeps its own copy too (as before the file existed): a module-scoped
    # fixture made under one test's keyring stays readable in the next test.
    def get_password(self, service: str, username: str) -> str | None:
        found = self._update().get((service, username))
        return found if found is not None else self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password
        self._update(lambda entries: entries.__setitem__((service, username), password))

    def delete_password(self, service: str, username: str) -> None:
        self._store.pop((service, username), None)
        self._update(lambda entries: entries.pop((service, username), None))
