"""Sync under faults against a real RT: helpdesk restarts, a client killed with SIGKILL, lost
replies. After each, every item is in RT exactly once and the local database is intact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

from pacs_console.core.sync import outbox
from pacs_console.core.sync.adapters.base import HelpdeskConfig
from pacs_console.core.sync.adapters.rt import RTAdapter
from pacs_console.core.sync.runner import Backoff, drain
from tests.conftest import ROOT
from tests.core.sync.conftest import run
from tests.core.sync.faults import DroppingProxy, assert_exactly_once, make_items

FAST = Backoff(base_s=0.05, cap_s=0.5)


def _adapter(rt_peer, url=None) -> RTAdapter:
    return RTAdapter(HelpdeskConfig(url=url or rt_peer.url, queue=rt_peer.queue,
                                    user=rt_peer.user, timeout=10.0), rt_peer.token)


@pytest.mark.timeout(300)
def test_rt_stopped_and_started_during_a_200_item_drain(ctx, rt_peer):
    db = ctx.db
    assert make_items(db, 40, 4, "restart") == 200
    adapter = _adapter(rt_peer)
    outcome = {}

    def drive():
        outcome["result"] = run(drain(db, adapter, attachments_dir=ctx.paths.data, workers=4,
                                      backoff=FAST, wait_s=150, lease_s=20))

    worker = threading.Thread(target=drive)
    worker.start()
    restarts = 0
    try:
        for threshold in (15, 60, 110, 160):
            deadline = time.monotonic() + 60
            while outbox.counts(db)["done"] < threshold and time.monotonic() < deadline:
                time.sleep(0.05)
            rt_peer.stop()
            time.sleep(random.uniform(0.2, 1.0))
            rt_peer.start()
            restarts += 1
    finally:
        if not rt_peer.running:
            rt_peer.start()
        worker.join(180)
        adapter.close()
    assert restarts == 4 and not worker.is_alive()
    result = outcome["result"]
    assert result.delivered == 200 and result.failed == 0, result.to_dict()
    assert result.deferred > 0  # the restarts were felt
    assert_exactly_once(db, rt_peer)


CLIENT = """
import sys
from pathlib import Path
from pacs_console.core.db.engine import Database
from pacs_console.core.sync.adapters.base import HelpdeskConfig
from pacs_console.core.sync.adapters.rt import RTAdapter
from pacs_console.core.sync.runner import Backoff, drain
db = Database(Path(sys.argv[1]))
adapter = RTAdapter(HelpdeskConfig(url=sys.argv[2], queue=sys.argv[3], user=sys.argv[4]),
                    sys.argv[5])
gen = drain(db, adapter, attachments_dir=Path(sys.argv[1]).parent, workers=4, lease_s=1.0,
            backoff=Backoff(0.05, 0.5), wait_s=60)
print("started", flush=True)
for progress in gen:
    pass
print("finished", flush=True)
"""


@pytest.mark.timeout(240)
def test_client_killed_with_sigkill_many_times_during_the_drain(ctx, rt_peer):
    db = ctx.db
    total = make_items(db, 20, 2, "sigkill")
    args = [sys.executable, "-c", CLIENT, str(db.path), rt_peer.url, rt_peer.queue, rt_peer.user,
            rt_peer.token]
    kills = 0
    rng = random.Random(8)
    while kills < 10 and outbox.counts(db)["done"] < total:
        child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "started"
        time.sleep(rng.uniform(0.1, 0.8))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        kills += 1
    assert kills >= 6, "the drain finished before it was killed often enough"
    final = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0 and "finished" in final.stdout, final.stderr[-3000:]
    assert_exactly_once(db, rt_peer)


def test_reply_lost_after_rt_made_the_ticket_or_comment(ctx, rt_peer):
    db = ctx.db
    make_items(db, 12, 2, "lost-reply")
    proxy = DroppingProxy((rt_peer.host, rt_peer.port), every=3)
    adapter = _adapter(rt_peer, proxy.url)
    try:
        result = run(drain(db, adapter, attachments_dir=ctx.paths.data, workers=2,
                           backoff=FAST, wait_s=60))
    finally:
        adapter.close()
        proxy.close()
    assert proxy.dropped >= 5 and result.deferred >= proxy.dropped - 1
    assert result.failed == 0, result.to_dict()
    assert_exactly_once(db, rt_peer)
