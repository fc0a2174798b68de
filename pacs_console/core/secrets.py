"""Secrets in the OS keyring only; without a secure backend they live in memory for the session."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)
SERVICE = "pacs-console"

# An allow-list: the backends known to encrypt secrets at rest (the OS keychains). Anything
# else (a plaintext file such as keyrings.alt, null, fail, or any backend not known here)
# counts as insecure, and secrets then stay in memory for the session only.
SECURE_BACKENDS = {
    "keyring.backends.SecretService.Keyring": "Secret Service (GNOME Keyring, KeePassXC)",
    "keyring.backends.libsecret.Keyring": "Secret Service through libsecret",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KWallet 4",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Locker",
}
# The test suite's in-memory backend counts as secure only when this variable says so.
TEST_KEYRING_ENV = "PACS_CONSOLE_TEST_KEYRING"
_TEST_BACKEND = "tests.memkeyring.MemoryKeyring"


@dataclass(frozen=True)
class KeyringStatus:
    """The keyring backend in use, whether it keeps secrets safely, and why (or why not)."""

    name: str
    secure: bool
    reason: str


def _leaf_backends(backend) -> list:
    inner = getattr(backend, "backends", None)
    return list(inner) if inner else [backend]


def _qualified(backend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _allowed(name: str) -> bool:
    if name in SECURE_BACKENDS:
        return True
    return name == _TEST_BACKEND and os.environ.get(TEST_KEYRING_ENV) == "1"


def keyring_status() -> KeyringStatus:
    """Name the active backend and say whether secrets are safe in it (allow-list)."""
    try:
        import keyring
    except ImportError:
        return KeyringStatus("none", False, "the keyring package is not installed")
    leaves = _leaf_backends(keyring.get_keyring())
    names = [_qualified(b) for b in leaves]
    joined = ", ".join(names) or "none"
    # Every backend the chain may write to must encrypt: a chain falls through to the next.
    if names and all(_allowed(n) for n in names):
        kinds = ", ".join(dict.fromkeys(SECURE_BACKENDS.get(n, "test keyring") for n in names))
        return KeyringStatus(joined, True, f"secure OS keyring ({kinds})")
    insecure = [n for n in names if not _allowed(n)]
    if any(n.startswith("keyrings.alt") for n in insecure):
        reason = "plaintext file backend (keyrings.alt): refused, secrets would sit in a file"
    elif not names or all(n.startswith(("keyring.backends.fail", "keyring.backends.null"))
                          for n in insecure):
        reason = ("no secure backend: start a Secret Service (GNOME Keyring, KWallet) "
                  "on Linux; Windows and macOS have one built in")
    else:
        reason = (f"{', '.join(insecure)} is not a keyring known to encrypt at rest (Secret "
                  "Service, KWallet, macOS Keychain, Windows Credential Locker): refused")
    return KeyringStatus(joined, False, reason)


def not_stored(what: str, status: KeyringStatus, env: str = ""):
    """The error a command gives when a secret could not go to the keyring (exit 1)."""
    from pacs_console.core.errors import ConsoleError, Diagnosis

    instead = f"or set {env} for each run instead" if env else "or give it again each run"
    return ConsoleError(Diagnosis(
        "secret-not-stored", f"{what} was NOT stored: it is kept in memory for this session "
        "only", (status.reason,),
        ("start a Secret Service (GNOME Keyring, KWallet) on Linux, then run this again",
         instead), {"keyring": status.name}))


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
