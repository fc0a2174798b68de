"""Address-book import for the window and `pacs-console node import`: validated, all or nothing.

Each entry is checked with the node dialog's rules (without a DNS lookup per row) and
reported as taken (new), changed (an existing node gets new values: named, never silent),
unchanged or refused. The demo node is never replaced. When any entry is refused nothing is
written; otherwise every entry is written in one transaction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pacs_console.core.addressbook import AddressBookError, parse_rows, validate_node
from pacs_console.core.db.engine import Database
from pacs_console.core.db.nodes import DEMO_NODE_NAME, NodeRecord, list_nodes, save_nodes
from pacs_console.core.safepath import read_regular_or

MAX_IMPORT_BYTES = 16 << 20  # a 200,000-node CSV is ~10 MB; anything larger is not an address book
_COMPARED = ("ae_title", "host", "port", "tags", "notes", "tls", "tls_ca_file", "tls_cert_file",
             "tls_key_file", "tls_server_name")


@dataclass(frozen=True)
class RowOutcome:
    where: str
    name: str
    action: str  # taken | changed | unchanged | refused
    detail: str = ""

    def to_dict(self) -> dict:
        return {"where": self.where, "name": self.name, "action": self.action,
                "detail": self.detail}


@dataclass
class ImportReport:
    source: str
    rows: list[RowOutcome] = field(default_factory=list)
    records: list[NodeRecord] = field(default_factory=list)
    applied: bool = False
    error: str = ""  # the file as a whole could not be read

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def ok(self) -> bool:
        return not self.error and self.count("refused") == 0

    def summary(self) -> str:
        if self.error:
            return f"Nothing imported from {self.source}: {self.error}"
        counts = (f"{self.count('taken')} new, {self.count('changed')} changed, "
                  f"{self.count('unchanged')} unchanged, {self.count('refused')} refused")
        if self.applied:
            return f"Imported {self.source}: {counts}"
        return f"Nothing imported from {self.source} ({counts}): fix the refused entries first"

    def to_dict(self) -> dict:
        return {"ok": self.ok and self.applied, "source": self.source, "applied": self.applied,
                "error": self.error or None,
                "counts": {a: self.count(a) for a in ("taken", "changed", "unchanged", "refused")},
                "rows": [row.to_dict() for row in self.rows]}


def read_book(path: str | os.PathLike[str]) -> str:
    """The text of an address-book file: a regular file, bounded, UTF-8 (a BOM is allowed)."""
    data = read_regular_or(path, MAX_IMPORT_BYTES, AddressBookError)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AddressBookError(f"Not UTF-8 text (byte {exc.start})") from exc
    if "\x00" in text:
        raise AddressBookError("The file holds NUL bytes: it is not a text address book")
    return text


def _changes(old: NodeRecord, new: NodeRecord) -> list[str]:
    return [f"{key}: {getattr(old, key)!r} -> {getattr(new, key)!r}" for key in _COMPARED
            if getattr(old, key) != getattr(new, key)]


def plan_import(db: Database, text: str, fmt: str | None = None, source: str = "",
                filename: str = "") -> ImportReport:
    """What an import would do, entry by entry; nothing is written."""
    report = ImportReport(source or filename or "input")
    try:
        rows = parse_rows(text, fmt, filename)
    except (AddressBookError, ValueError) as exc:
        report.error = str(exc)
        return report
    existing = {node.name: node for node in list_nodes(db)}
    seen: set[str] = set()
    for row in rows:
        record = row.record
        if record is None:
            report.rows.append(RowOutcome(row.where, "", "refused", row.problem))
            continue
        name = record.name
        errors, _ = validate_node(name, record.ae_title, record.host, record.port,
                                  check_resolves=False)
        old = existing.get(name)
        if errors:
            detail = "; ".join(errors.values())
        elif name == DEMO_NODE_NAME or (old is not None and old.is_demo):
            detail = f"{name!r} is the demo node: an import never replaces it"
        elif name in seen:
            detail = f"{name!r} appears twice in the file"
        else:
            detail = ""
        if detail:
            report.rows.append(RowOutcome(row.where, name, "refused", detail))
            continue
        seen.add(name)
        if old is None:
            report.rows.append(RowOutcome(row.where, name, "taken", record.label))
        elif changes := _changes(old, record):
            report.rows.append(RowOutcome(row.where, name, "changed", "; ".join(changes)))
        else:
            report.rows.append(RowOutcome(row.where, name, "unchanged"))
            continue
        report.records.append(record)
    return report


def apply_import(db: Database, report: ImportReport) -> ImportReport:
    """Write a planned import when no entry was refused; all entries or none."""
    if report.ok and report.records:
        save_nodes(db, report.records)
    report.applied = report.ok
    return report


def import_file(db: Database, path: str | os.PathLike[str], fmt: str | None = None) -> ImportReport:
    """Read, plan and apply in one call (the CLI's `node import`, the window's worker)."""
    try:
        text = read_book(path)
    except AddressBookError as exc:
        return ImportReport(os.fspath(path), error=str(exc))
    report = plan_import(db, text, fmt, source=os.fspath(path), filename=Path(path).name)
    return apply_import(db, report)

