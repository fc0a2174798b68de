"""Site inventory diff: what changed between two sweeps of a site (a pure function)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pacs_console.core.discovery.models import DICOMWEB, Finding
from pacs_console.core.models import Plain

# Change kinds, in the order a visit report lists them.
NEW = "new"
GONE = "gone"
PORT_CLOSED = "port-closed"
AE_CHANGED = "ae-changed"
VERSION_CHANGED = "version-changed"
DICOMWEB_APPEARED = "dicomweb-appeared"
VERDICT_CHANGED = "verdict-changed"
KINDS = (NEW, GONE, PORT_CLOSED, AE_CHANGED, VERSION_CHANGED, DICOMWEB_APPEARED, VERDICT_CHANGED)


@dataclass(frozen=True)
class Change(Plain):
    kind: str
    host: str
    port: int
    before: str
    after: str
    text: str


@dataclass(frozen=True)
class InventoryDiff:
    changes: tuple[Change, ...] = ()
    unchanged: int = 0
    before_count: int = 0
    after_count: int = 0
    # The two sweeps compared (ids and ISO times); filled by the database layer.
    sweeps: dict = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KINDS if self.of_kind(kind)}

    def to_dict(self) -> dict:
        return {"changes": [c.to_dict() for c in self.changes], "counts": self.counts,
                "unchanged": self.unchanged, "before_count": self.before_count,
                "after_count": self.after_count, "sweeps": self.sweeps}

    def text(self) -> str:
        if not self.changes:
            return f"No change: {self.unchanged} open ports as before."
        return "\n".join(c.text for c in self.changes)


def _label(f: Finding) -> str:
    what = f.ae_title or f.product or f.verdict
    return f"{what}@{f.host}:{f.port}"


def _version(f: Finding) -> str:
    return " ".join(filter(None, [f.implementation_version_name, f.implementation_class_uid]))


def diff(before: Iterable[Finding], after: Iterable[Finding]) -> InventoryDiff:
    """Compare two sweeps by host:port.

    A port missing from ``after`` is "gone" when its host answered nothing at all, and
    "port-closed" when the host is still there on other ports. AE titles and implementation
    versions are compared only when both sweeps know them (a guess skipped is not a change).
    """
    old = {f.key: f for f in before}
    new = {f.key: f for f in after}
    hosts_now = {host for host, _ in new}
    changes: list[Change] = []
    unchanged = 0
    for key in sorted(new.keys() - old.keys(), key=_order):
        f = new[key]
        if f.verdict == DICOMWEB:
            changes.append(Change(DICOMWEB_APPEARED, *key, "", f.dicomweb_url,
                                  f"DICOMweb appeared at {f.dicomweb_url or _label(f)}"))
        else:
            changes.append(Change(NEW, *key, "", f.verdict, f"New: {_label(f)} ({f.verdict})"))
    for key in sorted(old.keys() - new.keys(), key=_order):
        f = old[key]
        if key[0] in hosts_now:
            changes.append(Change(PORT_CLOSED, *key, f.verdict, "",
                                  f"Port closed: {_label(f)} no longer answers"))
        else:
            changes.append(Change(GONE, *key, f.verdict, "", f"Gone: {_label(f)}"))
    for key in sorted(old.keys() & new.keys(), key=_order):
        a, b = old[key], new[key]
        found = []
        if a.ae_title and b.ae_title and a.ae_title != b.ae_title:
            found.append(Change(AE_CHANGED, *key, a.ae_title, b.ae_title,
                                f"AE title changed at {key[0]}:{key[1]}: {a.ae_title} -> {b.ae_title}"))
        va, vb = _version(a), _version(b)
        if va and vb and va != vb:
            found.append(Change(VERSION_CHANGED, *key, va, vb,
                                f"Implementation changed at {_label(b)}: {va} -> {vb} "
                                "(an upgrade or a replacement)"))
        if b.verdict == DICOMWEB and a.verdict != DICOMWEB:
            found.append(Change(DICOMWEB_APPEARED, *key, a.verdict, b.dicomweb_url,
                                f"DICOMweb appeared at {b.dicomweb_url or _label(b)}"))
        elif a.verdict != b.verdict:
            found.append(Change(VERDICT_CHANGED, *key, a.verdict, b.verdict,
                                f"{_label(b)}: {a.verdict} -> {b.verdict}"))
        changes.extend(found)
        unchanged += not found
    changes.sort(key=lambda c: (KINDS.index(c.kind), _order((c.host, c.port))))
    return InventoryDiff(tuple(changes), unchanged, len(old), len(new))


def _order(key: tuple[str, int]) -> tuple:
    return (tuple(int(p) if p.isdigit() else 0 for p in key[0].split(".")), key[1])
