"""Is the helpdesk reachable? Checked on a schedule and whenever the laptop's networks change."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import psutil

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connectivity:
    online: bool  # some non-loopback interface is up with an address
    helpdesk: bool  # the helpdesk answered HTTP (any status: it is there)
    detail: str
    interfaces: tuple[str, ...] = ()
    latency_ms: float | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def label(self) -> str:
        if self.helpdesk:
            return f"online ({self.latency_ms:.0f} ms)" if self.latency_ms is not None else "online"
        return "offline" if not self.online else "unreachable"


def interfaces() -> tuple[str, ...]:
    """Names of the interfaces that are up and have an address (loopback included last)."""
    stats, addresses = psutil.net_if_stats(), psutil.net_if_addrs()
    up = [name for name, s in stats.items() if s.isup and addresses.get(name)]
    return tuple(sorted(up, key=lambda n: (n.startswith("lo"), n)))


def network_signature() -> tuple:
    """Changes when an interface goes up or down or its addresses change (Wi-Fi to 4G, VPN)."""
    stats, addresses = psutil.net_if_stats(), psutil.net_if_addrs()
    return tuple(sorted((name, stats[name].isup if name in stats else False,
                         tuple(sorted(a.address for a in addrs)))
                        for name, addrs in addresses.items()))


def check(url: str, timeout: float = 5.0) -> Connectivity:
    names = interfaces()
    # A loopback helpdesk (tests, a local RT) is reachable without any network at all.
    online = any(not n.startswith("lo") for n in names) or "127." in url or "localhost" in url
    if not url:
        return Connectivity(online, False, "no helpdesk configured", names)
    started = time.perf_counter()
    try:
        answer = httpx.get(url.rstrip("/") + "/", timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Connectivity(online, False, f"{type(exc).__name__}: {exc}"[:200], names)
    latency = (time.perf_counter() - started) * 1000
    return Connectivity(online, True, f"HTTP {answer.status_code}", names, latency)


class Monitor:
    """A background thread: checks every ``interval_s`` and at once when the network changes;
    calls ``on_change(state)`` when reachability flips and ``on_online(state)`` when the
    helpdesk comes back, so the outbox can drain by itself."""

    def __init__(self, url_fn: Callable[[], str], *, interval_s: float = 60.0,
                 poll_s: float = 2.0, on_change: Callable[[Connectivity], None] | None = None,
                 on_online: Callable[[Connectivity], None] | None = None) -> None:
        self.url_fn, self.interval_s, self.poll_s = url_fn, interval_s, poll_s
        self.on_change, self.on_online = on_change, on_online
        self.state: Connectivity | None = None
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Monitor:
        self._thread = threading.Thread(target=self._run, name="connectivity", daemon=True)
        self._thread.start()
        return self

    def check_now(self) -> None:
        self._kick.set()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        signature, last_check = None, 0.0
        while not self._stop.is_set():
            current = network_signature()
            due = time.monotonic() - last_check >= self.interval_s
            if current != signature or due or self._kick.is_set():
                self._kick.clear()
                signature, last_check = current, time.monotonic()
                self._publish(check(self.url_fn()))
            self._kick.wait(self.poll_s)

    def _publish(self, state: Connectivity) -> None:
        previous, self.state = self.state, state
        try:
            if self.on_change and (previous is None or previous.helpdesk != state.helpdesk
                                   or previous.online != state.online):
                self.on_change(state)
            if self.on_online and state.helpdesk and (previous is None or not previous.helpdesk):
                self.on_online(state)
        except Exception:  # noqa: BLE001 - a listener's fault must not stop the monitor
            log.exception("Connectivity listener failed")
