"""Append-only, hash-chained audit log: record every change in its transaction, verify the chain."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import AuditLog
from pacs_console.core.incidents.audit_report import AuditProblem, AuditReport

GENESIS = "0" * 64
_HASHED = "id, at, actor, action, entity, entity_id, before_digest, after_digest, detail"
# Entities whose current rows must match the last digest the log recorded for them.
ENTITY_TABLES = {"incident": "incident", "timeline": "timeline_entry",
                 "attachment": "attachment", "site": "site", "visit": "visit",
                 "maintenance": "maintenance_window"}
# Sites are also created by other parts of the console (discovery, imports) without auditing.
_UNAUDITED_ALLOWED = {"site"}


KEYED = "hmac:"  # prefix of a hash made with the chain key (unprefixed: plain SHA-256)
# Prefix of a plain SHA-256 the app wrote after the chain was keyed, because the keyring was
# locked or absent at that moment: not protected by the key, but not a rewrite either.
UNKEYED = "unkeyed:"


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def _hash(prev: str, raw: tuple, key: bytes | None = None, prefix: str = "") -> str:
    data = prev.encode() + canonical(list(raw))
    if key is None:
        return prefix + hashlib.sha256(data).hexdigest()
    return KEYED + hmac.new(key, data, hashlib.sha256).hexdigest()


# -- the chain key: an HMAC key per database, in the OS keyring --------------------------------
# Without it, anyone who can write the database file can edit a row and recompute every
# SHA-256 after it. The key never sits beside the database; "since" is the first entry made
# with it, so a chain rewritten without the key (as plain SHA-256) from there on is caught.

_keys: dict[str, tuple[bytes, int]] = {}
_keys_lock = threading.Lock()


@dataclass(frozen=True)
class ChainKey:
    key: bytes | None
    since: int | None
    status: str  # what verify says about it


def _key_name(connection) -> str | None:
    """The keyring entry of this database's chain, named after its first audit entry (which
    copies and moves of the database keep); None while the log is empty."""
    first = connection.exec_driver_sql(
        f"SELECT {_HASHED} FROM audit_log ORDER BY id LIMIT 1").first()
    if first is None:
        return None
    return "audit-chain-key:" + hashlib.sha256(canonical(list(first))).hexdigest()[:32]


def chain_key(connection, *, create_at: int | None = None) -> ChainKey:
    """The chain key from the OS keyring; with ``create_at`` (the entry being written) a new
    key is made and stored when none exists and the keyring is secure."""
    from pacs_console.core.secrets import SecretStore

    name = _key_name(connection)
    if name is None:
        return ChainKey(None, None, "no audit entries yet")
    with _keys_lock:
        if name in _keys:
            key, since = _keys[name]
            return ChainKey(key, since, f"chain key in the OS keyring (entries from {since})")
        store = SecretStore()
        if not store.persistent:
            return ChainKey(None, None, f"keyring unavailable ({store.status.reason}): the "
                            "chain is not keyed, so a rewritten chain cannot be told apart")
        if not store.writable():
            return ChainKey(None, None, "the keyring is locked or not answering: the chain "
                            "key could not be read, entries are not keyed")
        raw = store.get(name)
        if raw:
            try:
                data = json.loads(raw)
                key, since = bytes.fromhex(data["key"]), int(data["since"])
            except (ValueError, KeyError, TypeError):
                return ChainKey(None, None, "the chain key in the keyring is unreadable")
        elif create_at is not None:
            key, since = secrets.token_bytes(32), create_at
            if not store.set_persistent(name, json.dumps({"key": key.hex(), "since": since})):
                return ChainKey(None, None, "the keyring refused the chain key: not keyed")
        else:
            return ChainKey(None, None, "no chain key in the OS keyring")
        _keys[name] = (key, since)
        return ChainKey(key, since, f"chain key in the OS keyring (entries from {since})")


def _incident_links(connection, incident_id: int | None = None) -> dict[int, dict]:
    where = "" if incident_id is None else " WHERE incident_id = ?"
    params = () if incident_id is None else (incident_id,)
    links: dict[int, dict] = {}
    for iid, node_id, label in connection.exec_driver_sql(
            f"SELECT incident_id, node_id, node_label FROM incident_node{where} ORDER BY id",
            params):
        links.setdefault(iid, {"nodes": [], "visits": []})["nodes"].append([node_id, label])
    for visit_id, iid in connection.exec_driver_sql(
            f"SELECT visit_id, incident_id FROM visit_incident{where} ORDER BY visit_id", params):
        links.setdefault(iid, {"nodes": [], "visits": []})["visits"].append(visit_id)
    return links


def _digest_row(columns, row, extra: dict | None) -> str:
    state = dict(zip(columns, row, strict=True))
    if extra:
        state["_links"] = extra
    return hashlib.sha256(canonical(state)).hexdigest()


def state_digest(session: Session, entity: str, entity_id: int) -> str:
    """Digest of a row as stored (after flush); '' when it does not exist."""
    connection = session.connection()
    result = connection.exec_driver_sql(
        f"SELECT * FROM {ENTITY_TABLES[entity]} WHERE id = ?", (entity_id,))
    row = result.first()
    if row is None:
        return ""
    extra = _incident_links(connection, entity_id).get(entity_id) if entity == "incident" else None
    return _digest_row(list(result.keys()), tuple(row), extra)


def record(session: Session, *, actor: str, action: str, entity: str, entity_id="",
           before: str = "", after: str = "", detail: dict | None = None) -> tuple[int, str]:
    """Append one entry in the caller's transaction; returns (id, hash).

    The row is inserted first so this transaction holds SQLite's write lock before reading the
    previous hash: two writers can never chain onto the same predecessor.
    """
    row = AuditLog(actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                   before_digest=before, after_digest=after,
                   detail=json.dumps(detail or {}, sort_keys=True, default=str))
    session.add(row)
    session.flush()
    connection = session.connection()
    prev = connection.exec_driver_sql(
        "SELECT hash FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 1", (row.id,)).scalar()
    raw = connection.exec_driver_sql(f"SELECT {_HASHED} FROM audit_log WHERE id = ?",
                                     (row.id,)).first()
    key = chain_key(connection, create_at=row.id).key
    # The chain is keyed (its last entry says so) but the key cannot be had now: say so in
    # the entry itself, so verify tells "written while the keyring was locked" from a rewrite.
    marked = UNKEYED if key is None and (prev or "").startswith((KEYED, UNKEYED)) else ""
    digest = _hash(prev or GENESIS, tuple(raw), key, marked)
    connection.exec_driver_sql("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
                               (prev or GENESIS, digest, row.id))
    session.info["audit_head"] = (row.id, digest)
    return row.id, digest


def anchor_path(db: Database) -> Path:
    return db.path.with_name(db.path.name + ".audit-head")


def _read_anchor(db: Database) -> dict | None:
    try:
        return json.loads(anchor_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_anchor(db: Database, head: tuple[int, str]) -> None:
    # Kept beside the database so deleting the newest log rows is noticed too. Written after the
    # commit: a crash in between leaves it one step behind, which verify accepts.
    current = _read_anchor(db)
    if current and int(current.get("id", 0)) >= head[0]:
        return
    path = anchor_path(db)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".audit-head-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"id": head[0], "hash": head[1]}, out)
    os.replace(temp, path)


@contextmanager
def audited_session(db: Database) -> Iterator[Session]:
    """A session whose audit entries commit with the change, then advance the anchor."""
    with db.session() as session:
        yield session
        head = session.info.get("audit_head")
    if head:
        _write_anchor(db, head)


def head(db: Database) -> dict | None:
    """The newest entry of the chain, ``{"id", "hash"}``: carried in every signed report, so
    a chain rewritten later no longer matches what was already handed over."""
    with db.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").first()
    return {"id": int(row[0]), "hash": str(row[1])} if row else None


# How a head travels in text (every ticket and comment the sync sends to the helpdesk), so
# the office sees which head the laptop had when it sent each item, and verify can read it back.
HEAD_LINE = "Audit head: entry {id} {hash}"
_HEAD_RE = re.compile(r"Audit head: entry (\d{1,12}) ((?:hmac:|unkeyed:)?[0-9a-f]{64})\b")


def head_line(db: Database) -> str:
    """The line for the current head; '' while the log is empty."""
    current = head(db)
    return HEAD_LINE.format(**current) if current else ""


def heads_in(text: str) -> list[dict]:
    """Every head line in a text (bounded: at most 100 per text)."""
    return [{"id": int(m.group(1)), "hash": m.group(2)}
            for m in list(_HEAD_RE.finditer(text or ""))[:100]]


def parse_head(text: str) -> dict:
    """``ENTRY:HASH`` or a whole head line, as seen on the helpdesk; ValueError when neither."""
    found = heads_in(text) or heads_in(HEAD_LINE.format(
        id=text.partition(":")[0].strip(), hash=text.partition(":")[2].strip()))
    if not found:
        raise ValueError(f"not an audit head: {text[:80]!r} (expected ENTRY:HASH, e.g. "
                         "42:hmac:3f…, or the 'Audit head: entry …' line)")
    return found[0]


def _handed_over(connection, handed: list[tuple[str, dict]], anchors: list[str],
                 problems: list[AuditProblem]) -> None:
    """Heads carried outside the laptop (signed reports) must still be in the chain."""
    for where, anchor in handed:
        try:
            audit_id, expected = int(anchor["id"]), str(anchor["hash"])
        except (KeyError, TypeError, ValueError):
            continue
        found = connection.exec_driver_sql("SELECT hash FROM audit_log WHERE id = ?",
                                           (audit_id,)).scalar()
        anchors.append(f"{where} (entry {audit_id})")
        if found != expected:
            problems.append(AuditProblem(
                "handed-over-mismatch", f"Audit entry {audit_id}, as handed over in {where}, is "
                "missing or different now: the chain was rewritten after that report was signed",
                audit_id))


def verify(db: Database, handed: list[tuple[str, dict]] | None = None) -> AuditReport:
    """Walk the chain (keyed entries with the key from the OS keyring), check the anchors
    (the head file beside the database and ``handed``: heads carried in signed reports),
    and compare every audited row with its last digest."""
    problems: list[AuditProblem] = []
    latest: dict[tuple[str, str], str] = {}
    anchors: list[str] = []
    keyed = 0
    unkeyed: list[int] = []  # written without the key after keying, marked by the app
    plain_after: list[int] = []  # plain hashes after keying: vouched only by a later keyed one
    vouched = 0
    with db.engine.connect() as connection:
        key = chain_key(connection)
        prev, last_id, count = GENESIS, 0, 0
        for row in connection.exec_driver_sql(
                f"SELECT {_HASHED}, prev_hash, hash FROM audit_log ORDER BY id"):
            count += 1
            raw, stored_prev, stored_hash = tuple(row[:9]), row[9], row[10]
            audit_id, entity, entity_id, after = raw[0], raw[4], raw[5], raw[7]
            if stored_prev != prev:
                problems.append(AuditProblem(
                    "chain-broken", f"Audit entry {audit_id} does not follow entry {last_id}: an "
                    "entry was deleted or inserted outside the app", audit_id, entity, entity_id))
            if stored_hash.startswith(KEYED):
                keyed += 1
                valid = key.key is not None and _hash(stored_prev, raw, key.key) == stored_hash
                if valid:  # its HMAC covers every entry before it: those were not rewritten
                    vouched = len(unkeyed) + len(plain_after)
                    unkeyed += plain_after
                    plain_after = []
            elif stored_hash.startswith(UNKEYED):
                valid = _hash(stored_prev, raw, prefix=UNKEYED) == stored_hash
                if valid:
                    unkeyed.append(audit_id)
            else:
                valid = _hash(stored_prev, raw) == stored_hash
                if valid and key.since is not None and audit_id >= key.since:
                    plain_after.append(audit_id)
            if not valid and (key.key is not None or not stored_hash.startswith(KEYED)):
                problems.append(AuditProblem(
                    "edited", f"Audit entry {audit_id} was edited outside the app", audit_id,
                    entity, entity_id))
            prev, last_id = stored_hash, audit_id
            if entity in ENTITY_TABLES:
                known = latest.get((entity, entity_id))
                if known is not None and raw[6] != known:
                    # The app found a state it had not written: someone changed it in between.
                    problems.append(AuditProblem(
                        "changed-outside", f"{entity} {entity_id} was changed outside the app "
                        f"before audit entry {audit_id}", audit_id, entity, entity_id))
                latest[(entity, entity_id)] = after
        if keyed and key.key is None:
            problems.append(AuditProblem(
                "key-missing", f"{keyed} audit entries are keyed but the chain key is not in "
                f"this computer's keyring ({key.status}): they cannot be checked"))
        if plain_after:  # unmarked, and no keyed entry after them
            problems.append(AuditProblem(
                "edited", f"Audit entry {plain_after[0]} carries a plain hash where the app "
                "writes a keyed or marked one: edited outside the app", plain_after[0]))
            problems.append(AuditProblem(
                "rewritten", f"{len(plain_after)} audit entries from entry {plain_after[0]} on "
                f"carry a plain hash although the chain is keyed from entry {key.since}: the "
                "chain was rewritten without the key"))
        anchors.append(key.status if key.key is None else
                       f"{key.status}: {keyed} keyed entries checked")
        anchor = _read_anchor(db)
        if anchor:
            found = connection.exec_driver_sql("SELECT hash FROM audit_log WHERE id = ?",
                                               (int(anchor["id"]),)).scalar()
            anchors.append(f"head file {anchor_path(db).name} (entry {anchor['id']})")
            if found != anchor.get("hash"):
                problems.append(AuditProblem(
                    "truncated", f"Audit entry {anchor['id']}, the newest one this console wrote, "
                    "is missing or altered: entries were removed outside the app",
                    int(anchor["id"])))
        else:
            anchors.append(f"head file {anchor_path(db).name}: none yet")
        _handed_over(connection, handed or [], anchors, problems)
        checked = _check_states(connection, latest, problems)
    return AuditReport(count, checked, tuple(problems), tuple(anchors), key.key is not None,
                       tuple(sorted(unkeyed)), vouched)


def _check_states(connection, latest: dict[tuple[str, str], str],
                  problems: list[AuditProblem]) -> int:
    checked = 0
    links = _incident_links(connection)
    for entity, table in ENTITY_TABLES.items():
        seen: set[str] = set()
        result = connection.exec_driver_sql(f"SELECT * FROM {table}")
        columns = list(result.keys())
        for row in result:
            checked += 1
            key = str(row[0])
            seen.add(key)
            extra = links.get(row[0]) if entity == "incident" else None
            digest = _digest_row(columns, tuple(row), extra)
            expected = latest.get((entity, key))
            if expected is None:
                if entity not in _UNAUDITED_ALLOWED:
                    problems.append(AuditProblem(
                        "added-outside", f"{entity} {key} exists but was never recorded by the "
                        "app", None, entity, key))
            elif expected != digest:
                problems.append(AuditProblem(
                    "changed-outside", f"{entity} {key} differs from its last recorded state",
                    None, entity, key))
        for (kind, key), expected in latest.items():
            if kind == entity and expected and key not in seen:
                problems.append(AuditProblem(
                    "deleted-outside", f"{entity} {key} was deleted outside the app", None,
                    entity, key))
    return checked
