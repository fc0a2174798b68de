"""The outbox without a helpdesk: same-transaction enqueue, ordering, leases, connectivity."""

from __future__ import annotations

import http.server
import threading
from datetime import timedelta

import pytest

from pacs_console.core.db.tables import utcnow
from pacs_console.core.incidents import service
from pacs_console.core.sync import connectivity, outbox


def test_enqueue_commits_and_rolls_back_with_the_change(ctx):
    record = service.create_incident(ctx.db, title="A", severity="low")
    with pytest.raises(Exception):  # noqa: B017 - an invalid transition rolls everything back
        service.set_status(ctx.db, record.id, "new")
    items = outbox.list_items(ctx.db)
    assert [i.kind for i in items] == ["create"]
    assert items[0].payload["subject"] == "A" and items[0].device_time == record.reported_at


def test_one_head_per_incident_in_order_and_expired_leases_come_back(ctx):
    db = ctx.db
    a = service.create_incident(db, title="A", severity="low")
    service.add_note(db, a.id, "a1")
    service.create_incident(db, title="B", severity="low")
    first = outbox.claim(db, "w1", limit=10, lease_s=30)
    assert sorted(i.payload["subject"] for i in first) == ["A", "B"]
    assert outbox.claim(db, "w2", limit=10) == []  # both heads are leased
    with db.session() as session:
        assert outbox.complete(session, first[0].id, "w1")
    (note,) = outbox.claim(db, "w2", limit=10)
    assert note.payload["text"] == "a1" and note.attempts == 1
    # w1 dies holding B's lease: once it expires, another drain takes B.
    later = utcnow() + timedelta(seconds=31)
    (again,) = outbox.claim(db, "w3", limit=10, now=later)
    assert again.id == first[1].id and again.attempts == 2
    with db.session() as session:
        assert not outbox.complete(session, again.id, "w1")  # lost its lease


def test_permanent_failure_blocks_only_its_incident_and_retry_cancel(ctx):
    db = ctx.db
    a = service.create_incident(db, title="A", severity="low")
    service.add_note(db, a.id, "a1")
    service.create_incident(db, title="B", severity="low")
    claimed = outbox.claim(db, "w", limit=10)
    outbox.fail(db, claimed[0].id, "w", {"code": "x", "what": "refused"})
    outbox.retry_later(db, claimed[1].id, "w", "timeout", 0.0)
    assert [i.payload["subject"] for i in outbox.claim(db, "w", limit=10)] == ["B"]
    assert outbox.counts(db)["failed"] == 1
    assert outbox.cancel(db, claimed[0].id) and outbox.counts(db)["cancelled"] == 1
    assert outbox.retry(db, claimed[0].id)
    assert [i.id for i in outbox.claim(db, "w", limit=10)] == [claimed[0].id]


def test_suppressed_changes_are_not_queued(ctx):
    record = service.create_incident(ctx.db, title="A", severity="low")
    with outbox.suppressed():
        service.add_note(ctx.db, record.id, "from the helpdesk")
    assert outbox.counts(ctx.db)["pending"] == 1


def test_connectivity_check_and_monitor_on_a_loopback_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        state = connectivity.check(url)
        assert state.helpdesk and state.label.startswith("online") and "lo" in state.interfaces
        seen, back = [], threading.Event()
        monitor = connectivity.Monitor(lambda: url, interval_s=0.2, poll_s=0.05,
                                       on_change=seen.append, on_online=lambda s: back.set())
        monitor.start()
        assert back.wait(5)
        monitor.stop()
        assert seen and seen[0].helpdesk
    finally:
        server.shutdown()
        server.server_close()
    assert not connectivity.check(url, timeout=1).helpdesk
