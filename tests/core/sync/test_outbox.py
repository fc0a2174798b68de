"""The outbox without a helpdesk: same-transaction enqueue, ordering, leases, connectivity."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta

import psutil
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


def _owner_of(proc: subprocess.Popen) -> str:
    """The lease owner string a sync running as ``proc`` writes (host:pid:start:nonce)."""
    started = psutil.Process(proc.pid).create_time()
    return f"{socket.gethostname()}:{proc.pid}:{started:.2f}:abcd1234"


def test_a_lease_names_host_pid_and_process_start_time(ctx):
    host, pid, started, nonce = outbox.lease_owner().rsplit(":", 3)
    assert host == socket.gethostname() and int(pid) == os.getpid()
    assert abs(float(started) - psutil.Process().create_time()) < 0.01 and len(nonce) == 8
    service.create_incident(ctx.db, title="A", severity="low")
    owner = outbox.lease_owner()
    (item,) = outbox.claim(ctx.db, owner, lease_s=600)
    assert outbox.get_items(ctx.db, [item.id])[0].lease_owner == owner
    assert outbox.owner_alive(owner) is True
    assert outbox.claim(ctx.db, outbox.lease_owner()) == []  # a live owner keeps its lease


def test_a_lease_whose_process_is_gone_is_reclaimed_at_once(ctx):
    db = ctx.db
    service.create_incident(db, title="A", severity="low")
    service.create_incident(db, title="B", severity="low")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        held_alive = outbox.claim(db, _owner_of(alive), limit=1, lease_s=600)
        held_dead = outbox.claim(db, _owner_of(dead), limit=1, lease_s=600)
        assert len(held_alive) == len(held_dead) == 1
        left = outbox.undelivered(db)
        assert left["count"] == 2 and left["in_flight"] == 2 and "in flight" in left["why"]
        dead.kill()
        dead.wait(10)
        assert outbox.owner_alive(_owner_of(alive)) is True
        (again,) = outbox.claim(db, outbox.lease_owner(), lease_s=60)  # no waiting 600 s
        assert again.id == held_dead[0].id and again.attempts == 2
        assert outbox.get_items(db, [held_alive[0].id])[0].state == "in_flight"
    finally:
        alive.kill()
        alive.wait(10)


def test_a_reused_pid_or_another_host_does_not_count_as_the_owner(ctx):
    me = psutil.Process()
    reused = f"{socket.gethostname()}:{me.pid}:{me.create_time() - 3600:.2f}:abcd1234"
    assert outbox.owner_alive(reused) is False  # same pid, started an hour later: not the owner
    assert outbox.owner_alive(f"other-laptop:{me.pid}:{me.create_time():.2f}:abcd1234") is None
    assert outbox.owner_alive("w1") is None  # an owner from an older version: lease time decides
    service.create_incident(ctx.db, title="A", severity="low")
    (item,) = outbox.claim(ctx.db, "other-laptop:1:1.00:abcd1234", lease_s=600)
    assert outbox.claim(ctx.db, outbox.lease_owner()) == []
    later = utcnow() + timedelta(seconds=601)
    assert [i.id for i in outbox.claim(ctx.db, outbox.lease_owner(), now=later)] == [item.id]
