"""Benchmark: drain 1,000 outbox items into a real RT vs a plain sequential httpx loop that
replays exactly the requests the drain made, in the same run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from pacs_console.core.db.engine import Database
from pacs_console.core.incidents import service
from pacs_console.core.sync.adapters.base import HelpdeskConfig
from pacs_console.core.sync.adapters.rt import RTAdapter
from pacs_console.core.sync.runner import drain
from tests.bench.runner import Case

ITEMS, INCIDENTS = 1000, 10
_STATE: dict = {}


def _setup() -> None:
    from tests.peers.rt import RequestTracker

    peer = RequestTracker()
    peer.start()
    _STATE.update(peer=peer, runs=0)


def _teardown() -> None:
    _STATE.pop("peer").remove()


def _fill(db: Database, items: int) -> None:
    per_incident = items // INCIDENTS
    for n in range(INCIDENTS):
        record = service.create_incident(db, title=f"Bench incident {n}", severity="medium")
        for m in range(per_incident - 1):
            service.add_note(db, record.id, f"Bench note {m} on incident {n}: " + "x" * 200)


def _timed_drain(peer, items: int, workers: int) -> tuple[float, list[tuple]]:
    folder = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    db = Database(folder / "pacs-console.sqlite3")
    _fill(db, items)
    recorded: list[tuple] = []

    def record(request: httpx.Request) -> None:
        recorded.append((request.method, str(request.url), request.read(),
                         request.headers.get("content-type")))

    client = httpx.Client(base_url=f"{peer.url}/REST/2.0", timeout=30.0,
                          headers={"Authorization": f"token {peer.token}"},
                          event_hooks={"request": [record]})
    adapter = RTAdapter(HelpdeskConfig(url=peer.url, queue=peer.queue, user=peer.user),
                        peer.token, client=client)
    started = time.perf_counter()
    generator = drain(db, adapter, attachments_dir=folder, workers=workers)
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        result = stop.value
    elapsed = time.perf_counter() - started
    adapter.close()
    db.close()
    assert result.delivered == items and result.failed == 0, result.to_dict()
    return elapsed, recorded


def _replay(peer, recorded: list[tuple]) -> float:
    """The plain loop: the same requests, one after another, no database, no bookkeeping."""
    with httpx.Client(timeout=30.0, headers={"Authorization": f"token {peer.token}"}) as client:
        started = time.perf_counter()
        for method, url, body, content_type in recorded:
            headers = {"content-type": content_type} if content_type else {}
            client.request(method, url, content=body, headers=headers).raise_for_status()
        return time.perf_counter() - started


def _run() -> dict[str, float]:
    peer = _STATE["peer"]
    _STATE["runs"] += 1
    # The runner's warm-up repetition only needs connections and caches warm: a small drain.
    items = 50 if _STATE["runs"] == 1 else ITEMS
    # The default configuration (one incident at a time), then four in parallel.
    drain_s, recorded = _timed_drain(peer, items, workers=HelpdeskConfig().workers)
    loop_s = _replay(peer, recorded)
    parallel_s, _ = _timed_drain(peer, items, workers=4)
    return {"drain_s": drain_s, "httpx_loop_s": loop_s, "drain_4_workers_s": parallel_s,
            "ratio_to_httpx_loop": drain_s / loop_s, "ratio_4_workers": parallel_s / loop_s,
            "requests": float(len(recorded)), "items": float(items)}


def cases() -> list[Case]:
    return [Case(f"Sync drain {ITEMS:,} items into Request Tracker vs a sequential httpx loop",
                 _run, "ratio_to_httpx_loop", target=1.2, unit="x", repeat=1,
                 peer_metric="httpx_loop_s", peer_name="httpx loop, same requests",
                 setup=_setup, teardown=_teardown)]
