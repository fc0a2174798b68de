"""Drain the outbox into the helpdesk: parallel across incidents, exactly once, with backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Generator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pacs_console.core.db.engine import Database
from pacs_console.core.errors import Diagnosis
from pacs_console.core.models import Progress
from pacs_console.core.sync import outbox, tickets
from pacs_console.core.sync.adapters.base import Adapter, FilePart, HelpdeskError, permanent


@dataclass(frozen=True)
class Backoff:
    """Exponential with jitter: attempt n waits a random 50-100% of min(cap, base * 2**(n-1))."""

    base_s: float = 2.0
    cap_s: float = 600.0

    def delay(self, attempts: int) -> float:
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1))
        return ceiling * random.uniform(0.5, 1.0)


@dataclass
class DrainResult:
    delivered: int = 0
    deferred: int = 0  # transient failures, retried later
    failed: int = 0  # permanent failures, waiting for the engineer
    elapsed_s: float = 0.0
    stopped: str = ""  # why the drain stopped early, if it did
    failures: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"delivered": self.delivered, "deferred": self.deferred, "failed": self.failed,
                "elapsed_s": round(self.elapsed_s, 3), "stopped": self.stopped,
                "failures": self.failures, "counts": self.counts}


def _device_line(item: outbox.OutboxRecord) -> str:
    offset = float(item.payload.get("clock_offset_s") or 0.0)
    text = f"Device time: {item.device_time.astimezone(UTC).isoformat()}"
    return text + (f" (device clock offset {offset:+.1f} s)" if offset else "")


def ticket_content(payload: dict, item: outbox.OutboxRecord, audit_line: str = "") -> str:
    """The new ticket's body: the incident as logged, with its original device times (SLA)
    and the audit chain's head when it was sent."""
    lines = [payload.get("description") or payload.get("subject", ""), ""]
    for label, key in (("Severity", "severity"), ("Category", "category"), ("Site", "site"),
                       ("Reporter", "reporter"), ("Contact", "contact"),
                       ("Logged by", "created_by"), ("Reported at (device)", "reported_at"),
                       ("Response due", "response_due_at"), ("Incident", "incident_uuid")):
        if payload.get(key):
            lines.append(f"{label}: {payload[key]}")
    lines.append(_device_line(item))
    if audit_line:
        lines.append(audit_line)
    return "\n".join(lines)


def _file(payload: dict, attachments_dir: Path) -> list[FilePart]:
    spec = payload.get("file")
    if not spec:
        return []
    if "inline" in spec:
        return [FilePart(spec["filename"], spec["media_type"], spec["inline"].encode())]
    path = attachments_dir / spec["sha256"][:2] / spec["sha256"]
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise permanent("sync-file-missing", f"The attached file {spec['filename']} is gone "
                        "from the laptop", "Attach it again, then cancel this item",
                        path=str(path), error=str(exc)) from exc
    return [FilePart(spec["filename"], spec["media_type"], content)]


RETRY_GRACE_S = 2.0


def deliver(adapter: Adapter, db: Database, item: outbox.OutboxRecord,
            attachments_dir: Path) -> str:
    """Send one item; returns the ticket id. Safe to repeat: every step looks before it acts.
    Every ticket and comment carries the audit chain's head as it is now, so the office can
    see which head the laptop had and `audit verify --helpdesk` can check it later."""
    from pacs_console.core.incidents.audit import head_line

    payload = item.payload
    if item.kind == "asset":  # a site node for the shared inventory (core/sync/inventory.py)
        from pacs_console.core.sync import inventory

        return inventory.deliver(inventory.remote_for(adapter), db, item)
    if item.kind == "asset-link":  # a site node's asset linked to a visit's ticket
        from pacs_console.core.sync import asset_links

        return asset_links.deliver_link(adapter, db, item)
    audit_line = head_line(db)
    if item.kind == "create":
        found = adapter.find_by_key(item.key)
        if not found and item.attempts > 1:
            # An earlier attempt may have died with its request still being served: give the
            # helpdesk a moment to commit that ticket before deciding none exists.
            time.sleep(RETRY_GRACE_S)
            found = adapter.find_by_key(item.key)
        if not found:
            title = f"[{payload.get('severity', '').upper()}] {payload.get('subject', '')}".strip()
            ticket = adapter.create_ticket(item.key, title[:200],
                                           ticket_content(payload, item, audit_line),
                                           item.device_time)
            # Look again after creating: if a lost earlier attempt landed meanwhile, both
            # tickets carry the key and the lowest one wins.
            found = sorted(set(adapter.find_by_key(item.key)) | {ticket}, key=int)
        if len(found) > 1:
            adapter.merge(found[0], found[1:])
        return found[0]
    ticket = tickets.ticket_for(db, item.incident_uuid)
    if ticket is None:
        raise permanent("sync-no-ticket", "This incident has no helpdesk ticket yet",
                        "Retry the incident's 'create' item (it was cancelled or failed)")
    files = _file(payload, attachments_dir)
    if not _delivered_before(adapter, ticket, item):
        text = f"{payload.get('text', '')}\n\n{_device_line(item)}"
        text += f"\n{audit_line}" if audit_line else ""
        adapter.comment(ticket, item.key, payload.get("subject", item.kind), text, files)
    if item.kind == "status" and payload.get("to_status"):
        adapter.set_status(ticket, adapter.remote_status(payload["to_status"]))
    return ticket


def _delivered_before(adapter: Adapter, ticket: str, item: outbox.OutboxRecord) -> bool:
    """After any ambiguous end of an earlier attempt (timeout, lost reply, a killed sync), look
    for the item's key on the ticket before posting again, as for creates: once at once, and
    once more after a grace period in case that attempt's request is still being served."""
    if item.attempts <= 1:
        return False
    if adapter.has_update(ticket, item.key):
        return True
    time.sleep(RETRY_GRACE_S)
    return adapter.has_update(ticket, item.key)


def _unexpected(exc: Exception) -> Diagnosis:
    return Diagnosis("sync-internal", f"Sync failed unexpectedly: {type(exc).__name__}: {exc}",
                     ("a fault in PACS Console",),
                     ("Retry the item; if it fails again, send the log bundle to support",))


def drain(db: Database, adapter: Adapter, *, attachments_dir: Path, workers: int = 4,
          lease_s: float = 60.0, backoff: Backoff | None = None, wait_s: float = 0.0,
          max_items: int | None = None, owner: str | None = None,
          ) -> Generator[Progress, None, DrainResult]:
    """Deliver due items until none is left; ``wait_s`` > 0 also waits out backoffs and
    other drains' expired leases for up to that long. Closing it stops claiming; items in
    flight finish or, if the process dies, their leases expire and they are retried."""
    backoff = backoff or Backoff()
    owner = owner or outbox.lease_owner()
    result, started = DrainResult(), time.monotonic()
    running: dict[Future, outbox.OutboxRecord] = {}
    claimed, claiming = 0, True
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync")

    def record(future: Future, item: outbox.OutboxRecord) -> None:
        nonlocal claiming
        try:
            ticket = future.result()
        except HelpdeskError as exc:
            if exc.transient:
                result.deferred += 1
                outbox.retry_later(db, item.id, owner, exc.diagnosis.what,
                                   backoff.delay(item.attempts))
                return
            diagnosis = exc.diagnosis
        except Exception as exc:  # noqa: BLE001 - any fault becomes a diagnosis on the item
            diagnosis = _unexpected(exc)
        else:
            with db.session() as session:
                if outbox.complete(session, item.id, owner, ticket) and item.kind == "create":
                    tickets.link_ticket(session, item.incident_uuid, item.incident_id, ticket,
                                        adapter.config.label)
            result.delivered += 1
            return
        result.failed += 1
        outbox.fail(db, item.id, owner, diagnosis.to_dict())
        result.failures.append({"item": item.id, "incident": item.incident_uuid,
                                **diagnosis.to_dict()})
        if diagnosis.code == "helpdesk-unauthorized":
            # Every other item would meet the same refusal: stop until credentials change.
            claiming, result.stopped = False, diagnosis.what

    try:
        while True:
            free = workers - len(running)
            if claiming and free > 0 and (max_items is None or claimed < max_items):
                limit = free if max_items is None else min(free, max_items - claimed)
                for item in outbox.claim(db, owner, limit=limit, lease_s=lease_s):
                    running[pool.submit(deliver, adapter, db, item, attachments_dir)] = item
                    claimed += 1
            if not running:
                remaining = wait_s - (time.monotonic() - started)
                due = _next_chance(db) if claiming and remaining > 0 else None
                if due is None:
                    break
                time.sleep(max(0.01, min(remaining, due, 1.0)))
                continue
            finished, _ = wait(running, timeout=lease_s / 3, return_when=FIRST_COMPLETED)
            if not finished:
                outbox.renew(db, owner, [i.id for i in running.values()], lease_s)
                continue
            for future in finished:
                record(future, running.pop(future))
            yield Progress(result.delivered + result.failed, None,
                           f"{result.delivered} delivered, {result.deferred} deferred, "
                           f"{result.failed} failed")
    finally:
        claiming = False
        for future in list(running):
            future.exception()  # wait: an item in flight finishes and is recorded
            record(future, running.pop(future))
        pool.shutdown(wait=True)
        result.elapsed_s = time.monotonic() - started
        result.counts = outbox.counts(db)
    return result


def _next_chance(db: Database) -> float | None:
    """Seconds until something may become claimable: a backoff ending or a lease expiring."""
    now = datetime.now(UTC)
    moments = [m for m in (outbox.next_due(db), _next_lease_expiry(db)) if m is not None]
    if not moments:
        return None
    return max(0.0, (min(moments) - now).total_seconds())


def _next_lease_expiry(db: Database) -> datetime | None:
    items = outbox.list_items(db, ("in_flight",), limit=10_000)
    leases = [i.lease_until for i in items if i.lease_until is not None]
    return min(leases) if leases else None
