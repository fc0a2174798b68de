"""Helpers for sync fault tests: a reply-dropping proxy, item factories, exactly-once checks."""

from __future__ import annotations

import socket
import threading
from collections import Counter

from pacs_console.core.db.engine import Database
from pacs_console.core.incidents import service
from pacs_console.core.relay.server import shut
from pacs_console.core.sync import outbox, tickets
from tests.loopback import LoopbackListener


def make_items(db: Database, incidents: int, notes: int, tag: str) -> int:
    """``incidents`` incidents with ``notes`` notes each: incidents * (1 + notes) outbox items."""
    for n in range(incidents):
        record = service.create_incident(db, title=f"{tag} incident {n}", severity="medium",
                                         description=f"Fault test {tag} #{n}")
        for m in range(notes):
            service.add_note(db, record.id, f"{tag} note {m} on incident {n}")
    return incidents * (1 + notes)


def exactly_once_problems(db: Database, rt_peer) -> list[str]:
    """What keeps RT from holding every incident and comment exactly once, in order (empty:
    it does); the local database is checked too."""
    problems = [] if db.integrity_ok() else ["local database integrity check failed"]
    counts = outbox.counts(db)
    if counts["done"] != sum(counts.values()):
        problems.append(f"not all items done: {counts}")
    items = outbox.list_items(db, ("done",), limit=100_000)
    by_incident: dict[str, list] = {}
    for item in items:
        by_incident.setdefault(item.incident_uuid, []).append(item)
    with rt_peer.client() as client:
        for incident_uuid, group in by_incident.items():
            ticket = tickets.ticket_for(db, incident_uuid)
            create = next(i for i in group if i.kind == "create")
            found = rt_peer.tickets_with_key(create.key)
            if ticket is None or found != [int(ticket)]:
                problems.append(f"incident {incident_uuid}: tickets {found}, mapped {ticket}")
                continue
            subjects, page = [], 1
            while True:
                batch = client.get(f"/ticket/{ticket}/attachments", params={
                    "fields": "Subject", "per_page": 100, "page": page}).json()["items"]
                subjects += [b.get("Subject") or "" for b in batch]
                if len(batch) < 100:
                    break
                page += 1
            seen = Counter(s for s in subjects if "[sync " in s)
            for item in group:
                if item.kind != "create":
                    tagged = [s for s in seen if item.key in s]
                    if not (len(tagged) == 1 and seen[tagged[0]] == 1):
                        problems.append(f"item {item.key} on ticket {ticket}: "
                                        f"{sum(seen[s] for s in tagged)} times")
            # Ordering within the incident: RT shows the notes in the order they were made.
            notes = [s for s in subjects if "[sync " in s]
            keys = [i.key for i in sorted(group, key=lambda i: i.id) if i.kind != "create"]
            order = [next((k for k in keys if k in s), s) for s in notes]
            if order != keys:
                problems.append(f"ticket {ticket}: notes out of order or extra: {order}")
    return problems


def assert_exactly_once(db: Database, rt_peer) -> None:
    """Every outbox item is done and is on RT exactly once; the local database is intact."""
    problems = exactly_once_problems(db, rt_peer)
    assert not problems, "\n".join(problems)


class DroppingProxy(LoopbackListener):
    """A loopback TCP proxy that forwards requests but throws away the reply to every
    ``every``-th POST (ticket create or comment): RT did the work, the client never hears."""

    def __init__(self, target: tuple[str, int], every: int = 3) -> None:
        self.target, self.every = target, every
        self.posts = self.dropped = 0
        self._lock = threading.Lock()
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, client: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.target)
        state = {"drop": False}

        def requests() -> None:
            try:
                while chunk := client.recv(65536):
                    if chunk.startswith(b"POST /REST/2.0/ticket"):
                        with self._lock:
                            self.posts += 1
                            if self.posts % self.every == 0:
                                state["drop"] = True
                                self.dropped += 1
                    upstream.sendall(chunk)
            except OSError:
                pass
            finally:
                shut(upstream)

        threading.Thread(target=requests, daemon=True).start()
        try:
            while chunk := upstream.recv(65536):
                if state["drop"]:
                    break  # RT answered: the work is done; the client never sees it
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            shut(client)
            shut(upstream)
