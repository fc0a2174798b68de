"""The relay's conversation as it passes, for a live view: every timeline event (associate,
each DIMSE request and response, release, abort, close) once, as a row on a bounded queue.

``LiveFeed`` is given to ``Relay(on_event=...)``; the relay calls it on its pump threads after
each chunk, so it only compares a count and copies the few new events. When the view falls
behind, rows are dropped and counted, never the traffic slowed. Rows are redacted by the one
PHI module, like the summaries.
"""

from __future__ import annotations

import queue
import threading
from collections import deque

from pacs_console.core import phi
from pacs_console.core.relay.conversation import RQ, Conversation

QUEUE_LIMIT = 20000  # rows waiting for the view; beyond: dropped and counted
ENDED_KEPT = 256  # ended associations whose count is kept (a late call adds nothing)


class LiveFeed:
    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        self.queue: queue.Queue = queue.Queue(limit)
        self.dropped = 0
        self.seen: dict[int, int] = {}  # association -> events already queued
        self.ended: deque[int] = deque()
        self.lock = threading.Lock()

    def __call__(self, assoc_id: int, conv: Conversation) -> None:
        with self.lock:
            start = self.seen.get(assoc_id, 0)
            new = conv.events[start:]
            if new:
                self.seen[assoc_id] = start + len(new)
            if conv.closed and assoc_id not in self.ended:
                self.ended.append(assoc_id)  # remembered a while, then forgotten
                if len(self.ended) > ENDED_KEPT:
                    self.seen.pop(self.ended.popleft(), None)
        for event in new:
            self._put(assoc_id, conv, event)

    def _put(self, assoc_id: int, conv: Conversation, event: dict) -> None:
        side = event.get("from")
        row = {"association": assoc_id, "calling_ae": conv.calling_ae,
               "called_ae": conv.called_ae, "at": (conv.started or 0.0) + event["t"],
               "from": "modality" if side == RQ else "PACS" if side else "",
               "kind": event["kind"], "text": event["text"]}
        try:
            self.queue.put_nowait(phi.redact_json(row))
        except queue.Full:
            self.dropped += 1
