"""Secrets in the OS keyring only; without a secure backend they live in memory for the session."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)
SERVICE = "pacs-console"

# Backends that would put secrets in a file in clear (or nowhere): never used for secrets.
_INSECURE_MODULES = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


@dataclass(frozen=True)
class KeyringStatus:
    name: str
    secure: bool
    reason: str


def _leaf_backends(backend) -> list:
    inner = getattr(backend, "backends", None)
    return list(inner) if inner else [backend]


def keyring_status() -> KeyringStatus:
    """Name the active backend and say whether secrets are safe in it."""
    try:
        import keyring
    except ImportError:
        return KeyringStatus("none", False, "the keyring package is not installed")
    backend = keyring.get_keyring()
    leaves = _leaf_backends(backend)
    names = ", ".join(f"{type(b).__module__}.{type(b).__name__}" for b in leaves)
    secure = [b for b in leaves if not type(b).__module__.startswith(_INSECURE_MODULES)]
    if not leaves or not secure:
        if any(type(b).__module__.startswith("keyrings.alt") for b in leaves):
            reason = "plaintext file backend (keyrings.alt): refused, secrets would sit in a file"
        else:
            reason = ("no secure backend: start a Secret Service (GNOME Keyring, KWallet) "
                      "on Linux; Windows and macOS have one built in")
        return KeyringStatus(names or "none", False, reason)
    return KeyringStatus(names, True, "secure OS keyring")


class SecretStore:
    """get/set/delete secrets; keyring when secure, else a per-session memory dict, never a file."""

    def __init__(self) -> None:
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def status(self) -> KeyringStatus:
        return keyring_status()

    @property
    def persistent(self) -> bool:
        return self.status.secure

    def set(self, key: str, value: str) -> bool:
        """Store a secret; returns True when it will survive a restart."""
        if self.persistent:
            import keyring

            try:
                keyring.set_password(SERVICE, key, value)
                return True
            except Exception as exc:  # noqa: BLE001 - any backend failure falls back to memory
                log.warning("Keyring refused to store %s (%s); keeping it for this session only",
                            key, type(exc).__name__)
        with self._lock:
            self._memory[key] = value
        return False

    def set_persistent(self, key: str, value: str) -> bool:
        """Store a secret only where it survives a restart: the OS keyring, or nowhere.

        For secrets that something else is encrypted with: one kept only in memory would be
        lost with the session, and what it encrypted with it. False when the keyring is
        missing, insecure or locked."""
        if not self.persistent:
            return False
        import keyring

        try:
            keyring.set_password(SERVICE, key, value)
            return keyring.get_password(SERVICE, key) == value
        except Exception as exc:  # noqa: BLE001 - locked, refused, no prompter
            log.warning("Keyring cannot keep %s (%s)", key, type(exc).__name__)
            return False

    def writable(self) -> bool:
        """Whether the keyring answers now (a locked Secret Service does not)."""
        if not self.persistent:
            return False
        import keyring

        try:
            keyring.get_password(SERVICE, "availability-probe")
            return True
        except Exception:  # noqa: BLE001 - locked or unreachable
            return False

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        if self.persistent:
            import keyring

            try:
                return keyring.get_password(SERVICE, key)
            except Exception as exc:  # noqa: BLE001
                log.warning("Keyring could not read %s (%s)", key, type(exc).__name__)
        return None

    def delete(self, key: str) -> None:
        with self._lock:
            self._memory.pop(key, None)
        if self.persistent:
            import keyring

            try:
                keyring.delete_password(SERVICE, key)
            except Exception:  # noqa: BLE001 - absent already
                pass

    def has(self, key: str) -> bool:
        return self.get(key) is not None
