"""Per-session loopback network and ports, so test sessions can share a machine.

Each pytest session picks a random 127.x.y.0/24 network (``PACS_TEST_NET``) and takes its own
ports from the OS; both go into the environment, so child processes (the CLI under test, a
second interpreter) see the same values. Peers sit on ``addr(11..14)``; no test binds a fixed
127.0.0.NN address or a well-known port.
"""

from __future__ import annotations

import os
import random
import socket

_rng = random.SystemRandom()
NET = os.environ.setdefault("PACS_TEST_NET", f"127.{_rng.randint(1, 254)}.{_rng.randint(0, 255)}")


def addr(n: int) -> str:
    """Host ``n`` (1..254) of this session's loopback network."""
    if not 1 <= n <= 254:
        raise ValueError(f"host number {n} is outside 1..254")
    return f"{NET}.{n}"


def span(first: int, last: int) -> str:
    """A target range of this session's network in the console's syntax: ``127.x.y.first-last``."""
    return f"{addr(first)}-{last}"


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS has just handed out on ``host`` (free at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def free_ports(host: str, count: int) -> list[int]:
    """``count`` distinct ports the OS hands out on ``host`` (all held until every one is known)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def session_port(name: str, host: str = "127.0.0.1") -> int:
    """A port chosen once per session (kept in ``PACS_TEST_PORT_<NAME>`` for child processes)."""
    key = f"PACS_TEST_PORT_{name.upper()}"
    if key not in os.environ:
        os.environ[key] = str(free_port(host))
    return int(os.environ[key])


def announced_port(stream, pattern: str = r"listening on \S+:(\d+)") -> int:
    """The port a child server announces once it listens (started on port 0, so the OS picked
    it as it bound: nothing can take it between choosing and binding). Reads ``stream`` line by
    line until ``pattern``'s first group; the rest stays for ``communicate()``."""
    import re

    seen = []
    for line in iter(stream.readline, ""):
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return int(found.group(1))
    raise AssertionError(f"the server never said it listens: {''.join(seen)[-2000:]}")
