"""Waiting for a relay's associations to end (they end on its own threads); the console's
own relay and Storage SCP as child processes, the relay writing a trace."""

from __future__ import annotations

import time


def wait_for(ended: list, count: int = 1, timeout: float = 20.0) -> list[dict]:
    end = time.monotonic() + timeout
    while len(ended) < count and time.monotonic() < end:
        time.sleep(0.05)
    assert len(ended) >= count, f"{len(ended)} association(s) ended, {count} expected"
    return ended


def cli_relay_to_scp(tmp_path, trace):
    """(scp, its first line, relay, its first line): ``pacs-console scp`` accepting any AE title on
    loopback, ``pacs-console relay`` in front of it writing ``trace``."""
    from tests.core.wire_peers import serve

    scp, scp_info = serve(tmp_path / "scp", "scp", "--port", "0", "--bind", "127.0.0.1",
                          "--accept-any")
    relay, first = serve(tmp_path / "relay", "relay", "0", "--bind", "127.0.0.1", "--to",
                         f"127.0.0.1:{scp_info['port']}", "--out", str(trace))
    return scp, scp_info, relay, first
