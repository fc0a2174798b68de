"""Per-session loopback network and ports, so test sessions can share a machine.

Each pytest session picks a random 127.x.y.0/24 network (``PACS_TEST_NET``); per-test servers
take ports from the OS, session-long peers random ports below the OS's ephemeral range; both go into the environment, so child processes (the CLI under test, a
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


def _ephemeral_floor() -> int:
    """The lowest port the OS hands out for port 0 and outgoing connections (Linux default 32768)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def session_port(name: str, host: str = "127.0.0.1") -> int:
    """A port chosen once per session (kept in ``PACS_TEST_PORT_<NAME>`` for child processes).

    Session ports are held by convention for the whole run (peers are configured with them
    before anything listens), so they are drawn at random from *below* the OS's ephemeral range:
    a server started on port 0 or an outgoing connection can then never be handed the same port
    minutes later (a CI run once lost its C-MOVE destination that way). Another session on the
    machine draws at random too, and every draw is checked free on its address."""
    key = f"PACS_TEST_PORT_{name.upper()}"
    if key not in os.environ:
        floor = _ephemeral_floor()
        low, high = (10000, floor - 1) if floor > 12000 else (floor // 2, floor - 1)
        taken = {v for k, v in os.environ.items() if k.startswith("PACS_TEST_PORT_")}
        for _ in range(200):
            port = _rng.randint(low, high)
            if str(port) not in taken and _bindable(host, port):
                break
        else:
            port = free_port(host)
        os.environ[key] = str(port)
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
