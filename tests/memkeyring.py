"""An in-memory keyring backend for tests: secure enough for a test run, gone when it ends."""

from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    priority = 20  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._store.pop((service, username), None)
