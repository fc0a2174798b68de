"""Typed settings in a JSON file with a schema version and ordered, registered migrations."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, field, fields, replace
from pathlib import Path

from pacs_console.core.dicom.wire.params import DEFAULT_AE_TITLE, Timeouts, validate_ae_title
from pacs_console.core.profile import Profile
from pacs_console.core.records import record

TYPE_CHECKING = False  # typing itself costs a command line ~3 ms to import
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 2


@record(frozen=True)
class Settings:
    """Everything the engineer can set; secrets are never here (they live in the keyring)."""

    # Who signs reports (core/profile.py); the file keeps it as engineer_name, organisation, ...
    profile: Profile = field(default_factory=Profile)
    engineer_id: str = ""
    default_site: str = ""
    ae_title: str = DEFAULT_AE_TITLE
    scp_port: int = 11113  # 0: any free port, chosen by the OS at each start (shown once bound)
    connect_timeout: float = 5.0
    acse_timeout: float = 10.0
    dimse_timeout: float = 30.0
    network_timeout: float = 60.0
    # Discovery politeness: a clinical network must never feel a sweep.
    scan_rate: int = 200  # connection attempts per second, at most
    scan_concurrency: int = 64
    scan_timeout: float = 1.5
    # The DICOM doors (issue 15): what the console advertises and what its Storage SCP allows.
    max_pdu: int = 1 << 20  # advertised maximum PDU length, bytes (4096 - 16 MiB)
    scp_bind: str = "0.0.0.0"  # all interfaces: a PACS must reach it for C-MOVE
    scp_accept_any: bool = False  # False: only calling AEs in the address book (and the demo)
    scp_max_associations: int = 16
    scp_per_address: int = 6
    scp_max_in_flight_mb: int = 512
    scp_idle_timeout: float = 60.0
    scp_min_free_mb: int = 200
    extra: dict[str, Any] = field(default_factory=dict)

    def timeouts(self) -> Timeouts:
        return Timeouts(self.connect_timeout, self.acse_timeout, self.dimse_timeout,
                        self.network_timeout)

    def errors(self) -> dict[str, str]:
        """Field name -> what is wrong with it, for inline messages. Empty when valid."""
        problems: dict[str, str] = {}
        ae_problem = validate_ae_title(self.ae_title)
        if ae_problem:
            problems["ae_title"] = ae_problem
        if not 0 <= self.scp_port <= 65535:
            problems["scp_port"] = f"Port {self.scp_port} is outside 0-65535 (0: any free port)"
        for name in ("connect_timeout", "acse_timeout", "dimse_timeout", "network_timeout"):
            value = getattr(self, name)
            if not 0.1 <= value <= 3600:
                problems[name] = f"{value} s is outside 0.1-3600 s"
        if not 1 <= self.scan_rate <= 5000:
            problems["scan_rate"] = "Scan rate must be 1-5000 attempts per second"
        if not 1 <= self.scan_concurrency <= 512:
            problems["scan_concurrency"] = "Concurrency must be 1-512 connections"
        if not 0.1 <= self.scan_timeout <= 30:
            problems["scan_timeout"] = "Per-host scan timeout must be 0.1-30 s"
        return {**problems, **self._scp_errors()}

    def _scp_errors(self) -> dict[str, str]:
        import ipaddress

        problems: dict[str, str] = {}
        if not 4096 <= self.max_pdu <= 16 << 20:
            problems["max_pdu"] = "Maximum PDU must be 4096-16777216 bytes"
        try:
            ipaddress.ip_address(self.scp_bind)
        except ValueError:
            problems["scp_bind"] = f"{self.scp_bind!r} is not an IP address"
        for name, low, high in (("scp_max_associations", 1, 256), ("scp_per_address", 1, 256),
                                ("scp_max_in_flight_mb", 16, 16384),
                                ("scp_idle_timeout", 1, 3600), ("scp_min_free_mb", 0, 1 << 20)):
            if not low <= getattr(self, name) <= high:
                problems[name] = f"{getattr(self, name)} is outside {low}-{high}"
        return problems

    def scp_limits(self):
        """The Storage SCP's caps, as the lean acceptor takes them."""
        from pacs_console.core.dicom.wire.lean_scp import Limits
        from pacs_console.core.dicom.wire.pdu import effective_max_pdu

        return Limits(max_associations=max(1, self.scp_max_associations),
                      per_address=max(1, self.scp_per_address),
                      bytes_in_flight=max(16, self.scp_max_in_flight_mb) << 20,
                      idle_timeout=max(1.0, self.scp_idle_timeout),
                      max_pdu=effective_max_pdu(self.max_pdu))

    def warnings(self) -> dict[str, str]:
        """Valid but risky values: peers compare AE titles case- and space-sensitively."""
        notes: dict[str, str] = {}
        if self.ae_title != self.ae_title.upper():
            notes["ae_title"] = "Lower-case letters: many PACS compare AE titles case-sensitively"
        elif self.ae_title != self.ae_title.strip():
            notes["ae_title"] = "Leading or trailing spaces are often trimmed by peers"
        if self.scp_port == 0:
            notes["scp_port"] = "Changes between starts: the status bar shows it"
        elif self.scp_port < 1024:
            notes["scp_port"] = "Ports below 1024 need administrator rights on Linux and macOS"
        return notes


class SettingsError(ValueError):
    """A settings file that cannot be read or a value that does not validate."""


# Ordered migrations: MIGRATIONS[n] turns a version-n dict into version n+1.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def migration(from_version: int):
    def register(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        MIGRATIONS[from_version] = fn
        return fn

    return register


@migration(1)
def _split_single_timeout(data: dict) -> dict:
    """Version 1 had one 'timeout'; version 2 sets connect, ACSE, DIMSE and network apart."""
    data = dict(data)
    single = data.pop("timeout", None)
    if single is not None:
        data.setdefault("connect_timeout", min(float(single), 10.0))
        data.setdefault("acse_timeout", float(single))
        data.setdefault("dimse_timeout", float(single))
        data.setdefault("network_timeout", max(float(single), 60.0))
    if "aet" in data:
        data.setdefault("ae_title", data.pop("aet"))
    return data


def migrate(data: dict) -> dict:
    version = int(data.get("schema_version", 1))
    if version > SCHEMA_VERSION:
        raise SettingsError(
            f"Settings were written by a newer PACS Console (schema {version}, this one "
            f"reads up to {SCHEMA_VERSION}); update the console or pick another --data-dir."
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    data["schema_version"] = version
    return data


def from_dict(data: dict) -> Settings:
    known = {f.name: f for f in fields(Settings) if f.name != "profile"}
    values: dict[str, Any] = {"profile": Profile.from_stored(data)}
    for key, value in data.items():
        if key in known:
            default = known[key].default
            try:
                values[key] = type(default)(value) if isinstance(default, int | float | str) else value
            except (TypeError, ValueError) as exc:
                raise SettingsError(f"Setting {key!r} has an unusable value {value!r}") from exc
    return Settings(**values)


def load_settings(path: Path, *, upgrade: bool = True) -> Settings | None:
    """Read, migrate (saving the upgraded file, with the old one kept as .bak) and validate.
    ``upgrade=False``: None for a file of an older schema, left as it is (a command line that
    reads its settings before its log is set up loads it again once it is, so the upgrade is
    logged); this module imports logging only to log an upgrade (~5 ms of a start)."""
    if not path.exists():
        return Settings()
    import json  # with a file to read (a command line on defaults has none: ~1 ms of a start)

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SettingsError(f"Cannot read settings file {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise SettingsError(f"Settings file {path} does not hold a JSON object")
    old_version = int(raw.get("schema_version", 1))
    if old_version < SCHEMA_VERSION and not upgrade:
        return None
    data = migrate(raw)
    settings = from_dict(data)
    if old_version < SCHEMA_VERSION:
        path.with_suffix(f".v{old_version}.bak").write_text(json.dumps(raw, indent=2), "utf-8")
        save_settings(path, settings)
        import logging

        logging.getLogger(__name__).info("Settings upgraded from schema %s to %s", old_version,
                                         SCHEMA_VERSION)
    return settings


def to_dict(settings: Settings) -> dict:
    """The settings as the file keeps them: the profile's facts as flat keys, as ever."""
    data = asdict(settings)
    data.pop("profile")
    return {**settings.profile.stored(), **data}


def save_settings(path: Path, settings: Settings) -> None:
    """Validate, then write atomically so a power cut never leaves half a file."""
    problems = settings.errors()
    if problems:
        raise SettingsError("; ".join(f"{k}: {v}" for k, v in problems.items()))
    data = {"schema_version": SCHEMA_VERSION, **to_dict(settings)}
    path.parent.mkdir(parents=True, exist_ok=True)
    import json
    import tempfile  # only when saving (it imports shutil, random and more)

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def updated(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)


def actor(settings: Settings) -> str:
    """Who the audit trail and the incident timeline name: the engineer from Settings, else the
    login name (never empty, so no entry reads as written by nobody)."""
    import getpass

    return settings.profile.name or getpass.getuser()
