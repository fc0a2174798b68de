"""Waiting for a relay's associations to end (they end on its own threads)."""

from __future__ import annotations

import time


def wait_for(ended: list, count: int = 1, timeout: float = 20.0) -> list[dict]:
    end = time.monotonic() + timeout
    while len(ended) < count and time.monotonic() < end:
        time.sleep(0.05)
    assert len(ended) >= count, f"{len(ended)} association(s) ended, {count} expected"
    return ended
