"""Outbox leases that name their process: host, pid and process start time, so a lease held
by a sync that no longer exists on this host (SIGKILLed, crashed) is reclaimed at once."""

from __future__ import annotations

import os
import socket
import uuid

from sqlmodel import select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import OutboxItem, utcnow


def lease_owner() -> str:
    """Who holds a lease: ``host:pid:process start time:nonce``. The start time tells this
    process from a later one that got the same pid after it died."""
    import psutil

    started = psutil.Process().create_time()
    return f"{socket.gethostname()}:{os.getpid()}:{started:.2f}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str, host: str | None = None) -> bool | None:
    """False when the lease's process is gone from this host; None when that cannot be told
    (another host, an owner written by an older version): then only the lease time decides."""
    import psutil

    parts = (owner or "").rsplit(":", 3)
    if len(parts) != 4 or parts[0] != (host or socket.gethostname()):
        return None
    try:
        pid, started = int(parts[1]), float(parts[2])
    except ValueError:
        return None
    try:
        return abs(psutil.Process(pid).create_time() - started) < 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # access denied: it exists
        return True


def reclaim_dead(db: Database) -> int:
    """Items in flight under a sync process that no longer exists on this host go back to
    the queue at once (a SIGKILLed or crashed sync), rather than when their lease runs out."""
    host = socket.gethostname()
    with db.session() as session:
        rows = session.exec(select(OutboxItem).where(OutboxItem.state == "in_flight")).all()
        dead = [row for row in rows if owner_alive(row.lease_owner, host) is False]
        for row in dead:
            pid = row.lease_owner.rsplit(":", 3)[1]
            row.state, row.lease_until, row.next_attempt_at = "pending", None, None
            row.last_error = f"reclaimed: the sync process {pid} that held it is gone"
            row.updated_at = utcnow()
            session.add(row)
        return len(dead)
