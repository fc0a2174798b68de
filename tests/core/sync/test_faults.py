"""Sync under faults against a real RT: helpdesk restarts, a client killed with SIGKILL, lost
replies. After each, every item is in RT exactly once and the local database is intact."""

from __future__ import annotations

import json
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
from tests.core.sync.faults import (
    DroppingProxy,
    assert_exactly_once,
    exactly_once_problems,
    make_items,
)

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


ROUNDS, KILLS_PER_ROUND = 5, 3


@pytest.mark.timeout(900)
def test_client_killed_with_sigkill_many_times_during_the_drain(rt_ctx, rt_peer):
    """`pacs-console sync` SIGKILLed mid-drain again and again, five rounds in a row: no
    duplicate, no lost item, and the final `sync` exits 0 only when RT holds every incident
    and comment exactly once (a dead sync's leases are taken over at once, not in 60 s)."""
    db = rt_ctx.db
    root = rt_ctx.paths.data.parent
    args = [sys.executable, "-m", "pacs_console", "--data-dir", str(root), "-v", "sync"]
    env = {**os.environ, "PACS_CONSOLE_HELPDESK_TOKEN": rt_peer.token}
    rng = random.Random(8)
    total_kills = 0
    for round_no in range(ROUNDS):
        total = make_items(db, 8, 2, f"sigkill-{round_no}")
        assert total == 24
        kills = 0
        while kills < KILLS_PER_ROUND and outbox.counts(db)["pending"]:
            child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
            first = child.stderr.readline()  # the first progress line: the drain is under way
            time.sleep(rng.uniform(0.05, 0.6))
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
            child.stderr.close()
            kills += bool(first)
        total_kills += kills
        final = subprocess.run(args[:-2] + ["sync", "--json"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=300)
        problems = exactly_once_problems(db, rt_peer)
        body = json.loads(final.stdout)
        assert (final.returncode == 0) == (not problems) == body["ok"], (
            round_no, final.returncode, problems, final.stderr[-2000:])
        assert not problems, (round_no, problems)
        assert body["undelivered"]["count"] == 0
    assert total_kills >= 2 * ROUNDS, "the drains finished before they were killed often enough"


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
