"""The helpdesk adapter interface, its configuration, and failures split transient/permanent."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from pacs_console.core.errors import Diagnosis
from pacs_console.core.models import Check, Plain

TOKEN_SECRET = "helpdesk-token"  # the SecretStore key of the API token


@dataclass(frozen=True)
class HelpdeskConfig(Plain):
    """Where the helpdesk is and how tickets are filed; the token lives in the keyring only."""

    kind: str = "rt"
    url: str = ""
    queue: str = ""
    user: str = ""
    key_field: str = "IdempotencyKey"
    time_field: str = "DeviceTime"  # '' to not send the device time as a custom field
    timeout: float = 20.0
    # Incidents sent in parallel. RT on SQLite serialises writes: 4 workers drained 1,000 items
    # in 0.84x the time of a sequential loop on a quiet machine but 1.27x on a busy one, so
    # one is the safe default; raise it for RT on MySQL/PostgreSQL.
    workers: int = 1

    @property
    def configured(self) -> bool:
        return bool(self.url and self.queue)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.url.rstrip('/')}"

    @classmethod
    def from_dict(cls, data: dict | None) -> HelpdeskConfig:
        data = dict(data or {})
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


class HelpdeskError(Exception):
    """A failed helpdesk call. ``transient``: retry later; ``ambiguous``: the change may have
    been made even though no answer arrived, so look before doing it again."""

    def __init__(self, diagnosis: Diagnosis, *, transient: bool, ambiguous: bool = False,
                 status: int | None = None) -> None:
        super().__init__(diagnosis.what)
        self.diagnosis, self.transient, self.ambiguous, self.status = (
            diagnosis, transient, ambiguous, status)


def permanent(code: str, what: str, action: str, *causes: str, status: int | None = None,
              **evidence: str) -> HelpdeskError:
    return HelpdeskError(Diagnosis(code, what, tuple(causes), (action,), dict(evidence)),
                         transient=False, status=status)


def transient(code: str, what: str, *, ambiguous: bool, status: int | None = None,
              **evidence: str) -> HelpdeskError:
    return HelpdeskError(Diagnosis(code, what, ("the helpdesk or the network is unavailable",),
                                   ("Nothing to do: it is retried automatically",),
                                   dict(evidence)),
                         transient=True, ambiguous=ambiguous, status=status)


@dataclass(frozen=True)
class FilePart:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class RemoteChange:
    """One change someone made on the helpdesk side, as pulled back."""

    remote_id: int
    kind: str  # status, reply, comment
    at: datetime
    author: str
    text: str = ""
    from_status: str = ""
    to_status: str = ""


@dataclass(frozen=True)
class CheckReport:
    checks: tuple[Check, ...]
    diagnosis: Diagnosis | None = None
    elapsed_ms: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.diagnosis is None and all(c.ok for c in self.checks)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "elapsed_ms": round(self.elapsed_ms, 1),
                "checks": [c.__dict__ for c in self.checks],
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None}


class Adapter(ABC):
    """What sync needs from a helpdesk. Every method raises HelpdeskError on failure."""

    config: HelpdeskConfig

    @abstractmethod
    def find_by_key(self, key: str) -> list[str]:
        """Ids of tickets carrying this idempotency key, lowest first."""

    @abstractmethod
    def create_ticket(self, key: str, subject: str, content: str, device_time: datetime,
                      files: list[FilePart] = ()) -> str:
        """Create a ticket with the key (and device time) stored and verified; its id."""

    @abstractmethod
    def merge(self, keep: str, duplicates: list[str]) -> None:
        """Merge duplicate tickets into ``keep``."""

    @abstractmethod
    def has_update(self, ticket: str, key: str) -> bool:
        """Whether a comment carrying this key is already on the ticket."""

    @abstractmethod
    def comment(self, ticket: str, key: str, subject: str, text: str,
                files: list[FilePart] = ()) -> None:
        """An internal comment (with files), tagged with the key."""

    @abstractmethod
    def set_status(self, ticket: str, status: str) -> str:
        """Set the helpdesk status (already mapped); returns the status now on the ticket."""

    @abstractmethod
    def changes(self, ticket: str, after: int) -> list[RemoteChange]:
        """Changes by anyone but us with remote ids above ``after``, oldest first."""

    def updated_since(self, when: datetime) -> set[str] | None:
        """Ids of tickets changed since ``when`` (None: unknown, look at every ticket)."""
        return None

    def texts(self, ticket: str) -> list[str]:
        """The plain texts on a ticket (its body and every comment), oldest first."""
        return []

    @abstractmethod
    def status_of(self, ticket: str) -> str:
        """The ticket's status on the helpdesk."""

    @abstractmethod
    def check(self) -> CheckReport:
        """Reachability, credentials, queue and the custom fields sync writes."""

    @abstractmethod
    def local_status(self, remote: str) -> str | None:
        """The incident status a helpdesk status means, None when it says nothing new."""

    @abstractmethod
    def remote_status(self, local: str) -> str:
        """The helpdesk status for an incident status."""

    def close(self) -> None:  # noqa: B027 - optional
        pass
