"""The sweep: a paced, bounded asyncio TCP connect sweep plus probes, driven as a core generator."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import logging
import socket
import threading
import time
from collections.abc import Generator
from datetime import UTC, datetime

from pacs_console import __version__
from pacs_console.core.discovery import models as m
from pacs_console.core.discovery.probe import close, connect, probe_dicom
from pacs_console.core.discovery.targets import TargetSet
from pacs_console.core.settings import Settings

log = logging.getLogger(__name__)
# As core.dicom.ae names it, without importing pynetdicom (half a second of CLI start-up).
IMPLEMENTATION_VERSION = ("PACSCONSOLE_" + __version__.replace(".", ""))[:16]
TICK_S = 0.1  # at most ten progress reports a second: enough for a bar, cheap for the GUI


class _Host:
    """Per-host state: the web probes' hints feed the DICOM probes' AE guesses."""

    def __init__(self, address: str, web_ports: int) -> None:
        self.address = address
        self.pending_web = web_ports
        self.web_done = asyncio.Event()
        self.announced: list[str] = []
        self.orthanc: tuple[int, str] | None = None  # (DICOM port, version) from /system
        if not web_ports:
            self.web_done.set()

    def web_finished(self) -> None:
        self.pending_web -= 1
        if self.pending_web <= 0:
            self.web_done.set()


class _Engine:
    def __init__(self, targets: TargetSet, options: m.SweepOptions, loop) -> None:
        self.targets, self.options, self.loop = targets, options, loop
        self.version = IMPLEMENTATION_VERSION
        self.web_ports = tuple(p for p in options.web_ports)
        self.dicom_ports = tuple(p for p in options.ports if p not in self.web_ports)
        self.total = len(targets) * (len(self.dicom_ports) + len(self.web_ports))
        self.done = 0
        self.open = 0
        self.fresh: list[m.Finding] = []
        self.findings: list[m.Finding] = []
        self.announcements: list[m.Announcement] = []
        self.fresh_announcements: list[m.Announcement] = []
        self.sockets: set[socket.socket] = set()
        self.tasks: set[asyncio.Task] = set()
        self.news = asyncio.Event()
        self.dnssd_done = asyncio.Event()
        self.extra: set[tuple[str, int]] = set()  # announced ports outside the sweep
        self.started = time.perf_counter()
        self.client = None
        self.stop_browse = threading.Event()

    # --- the sweep --------------------------------------------------------------------------

    async def run(self) -> None:
        from pacs_console.core.discovery.web import make_client

        options = self.options
        slots = asyncio.Semaphore(options.concurrency)
        self.probe_slots = asyncio.Semaphore(options.concurrency)
        browse = self._start_dnssd() if options.dns_sd else None
        if browse is None:
            self.dnssd_done.set()
        interval = 1.0 / options.rate
        # A token bucket: oversleeping never lowers the average rate, and no burst exceeds
        # 50 ms worth of attempts (10 at the default 200/s).
        slack = max(1.0, options.rate * 0.05) * interval
        next_at = self.loop.time() - slack
        async with make_client(options.timeout) as self.client:
            for address in self.targets.addresses:
                host = _Host(address, len(self.web_ports))
                for port in self.dicom_ports + self.web_ports:
                    await slots.acquire()
                    now = self.loop.time()
                    next_at = max(next_at, now - slack) + interval
                    if next_at - now > 0.002:  # sleep only when a real gap builds up
                        await asyncio.sleep(next_at - now)
                    future = connect(self.loop, address, port, options.timeout, self.sockets)
                    future.add_done_callback(functools.partial(self._connected, slots, host, port))
            for _ in range(options.concurrency):  # every attempt has finished
                await slots.acquire()
            if browse is not None:
                await asyncio.gather(browse, return_exceptions=True)  # failures are logged
                await self._probe_announced()
            while self.tasks:
                await asyncio.gather(*list(self.tasks))

    def _connected(self, slots: asyncio.Semaphore, host: _Host, port: int, future) -> None:
        slots.release()
        self.done += 1
        if future.cancelled():
            return
        sock, latency, _ = future.result()
        if sock is None:
            if port in self.web_ports:
                host.web_finished()
            return
        self.open += 1
        self._spawn(self._probe(host, port, sock, latency))

    def _spawn(self, coro) -> None:
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _probe(self, host: _Host, port: int, sock, latency: float) -> None:
        async with self.probe_slots:
            try:
                if port in self.web_ports:
                    close(sock, self.sockets)  # httpx opens its own connection
                    finding = await self._probe_web(host, port, latency)
                else:
                    finding = await probe_dicom(
                        self.loop, sock, host.address, port, latency, options=self.options,
                        version=self.version, sockets=self.sockets,
                        hints=functools.partial(self._hints, host, port))
            except Exception as exc:  # noqa: BLE001 - one odd node must not end the sweep
                log.exception("Probe of %s:%s failed", host.address, port)
                close(sock, self.sockets)
                finding = m.Finding(host.address, port, "dicom", m.NOT_DICOM, latency,
                                    detail=f"probe failed: {type(exc).__name__}: {exc}"[:200])
        if host.orthanc and host.orthanc[0] == port and finding.is_dicom:
            # Orthanc reports DCMTK's identity over DICOM; its REST API names it for sure.
            finding = dataclasses.replace(finding, vendor="Orthanc project", product="Orthanc",
                                          version=host.orthanc[1], confidence="high")
        self.findings.append(finding)
        self.fresh.append(finding)
        self.news.set()

    async def _probe_web(self, host: _Host, port: int, latency: float) -> m.Finding:
        from pacs_console.core.discovery.web import probe_web

        try:
            answer = await probe_web(self.client, host.address, port)
            if answer.ae_title:
                host.announced.append(answer.ae_title)
            if answer.product == "Orthanc" and answer.dicom_port:
                host.orthanc = (answer.dicom_port, answer.version)
        finally:
            host.web_finished()  # after the hints are in: the DICOM probes wait for this
        return m.Finding(host.address, port, "http", answer.verdict, round(latency, 2),
                         ae_title=answer.ae_title, ae_source="announced" if answer.ae_title else "",
                         product=answer.product, version=answer.version,
                         vendor="Orthanc project" if answer.product == "Orthanc" else "",
                         confidence="high" if answer.product else "",
                         dicomweb_url=answer.dicomweb_url,
                         detail="; ".join(filter(None, [answer.detail, answer.server])))

    async def _hints(self, host: _Host, port: int) -> tuple[list[str], list[str]]:
        """Wait (boundedly) for the host's web probes and DNS-SD, then list known titles."""
        waits = [host.web_done.wait(), self.dnssd_done.wait()]
        try:
            async with asyncio.timeout(self.options.timeout * 2 + self.options.dns_sd_seconds):
                for wait in waits:
                    await wait
        except TimeoutError:
            pass
        finally:
            for wait in waits:
                wait.close()
        known = [t for t in [self.options.known.get((host.address, port))] if t]
        announced = list(host.announced)
        announced += [a.ae_title for a in self.announcements
                      if a.host == host.address and a.port == port and a.ae_title]
        return known, announced

    # --- DNS-SD -----------------------------------------------------------------------------

    def _start_dnssd(self) -> asyncio.Future:
        from pacs_console.core.discovery.dnssd import browse

        interfaces = self.options.dns_sd_interfaces
        if not interfaces and self.targets.loopback_only:
            interfaces = ("127.0.0.1",)
        future = self.loop.run_in_executor(None, functools.partial(
            browse, self.options.dns_sd_seconds, interfaces, stop=self.stop_browse))

        def finished(fut) -> None:
            if not fut.cancelled() and fut.exception() is None:
                self.announcements.extend(fut.result())
                self.fresh_announcements.extend(fut.result())
                self.news.set()
            elif not fut.cancelled():
                log.warning("DNS-SD browse failed: %s", fut.exception())
            self.dnssd_done.set()

        future.add_done_callback(finished)
        return future

    async def _probe_announced(self) -> None:
        """Announced services on swept hosts but on ports outside the sweep: probe them too."""
        wanted = set(self.targets.addresses)
        swept = {*self.dicom_ports, *self.web_ports}
        for item in self.announcements:
            key = (item.host, item.port)
            if item.host in wanted and item.port not in swept and key not in self.extra:
                self.extra.add(key)
                web = item.service_type.startswith("_dicomweb")
                host = _Host(item.host, 0)
                sock, latency, _ = await connect(self.loop, item.host, item.port,
                                                 self.options.timeout, self.sockets)
                if sock is not None:
                    if web:
                        close(sock, self.sockets)
                        self._spawn(self._web_extra(host, item.port, latency))
                    else:
                        self._spawn(self._probe(host, item.port, sock, latency))

    async def _web_extra(self, host: _Host, port: int, latency: float) -> None:
        finding = await self._probe_web(host, port, latency)
        self.findings.append(finding)
        self.fresh.append(finding)
        self.news.set()

    # --- reporting --------------------------------------------------------------------------

    async def tick(self, task: asyncio.Task) -> None:
        if task.done():
            return
        news = self.loop.create_task(self.news.wait())
        try:
            await asyncio.wait({task, news}, timeout=TICK_S,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            news.cancel()
        self.news.clear()

    def progress(self, phase: str = "") -> m.SweepProgress:
        fresh, self.fresh = tuple(self.fresh), []
        announced, self.fresh_announcements = tuple(self.fresh_announcements), []
        elapsed = time.perf_counter() - self.started
        remaining = self.total - self.done
        eta = None
        if self.done:
            eta = max(remaining / self.options.rate, remaining * elapsed / self.done)
        phase = phase or ("sweep" if remaining else "probe")
        if phase == "sweep":
            message = f"{self.done:,} of {self.total:,} host:port tried, {self.open} open"
        elif phase == "probe":
            message = f"probing: {len(self.findings)} of {self.open} open ports classified"
        else:
            message = f"done: {self.open} open ports, {len(self.findings)} classified"
        return m.SweepProgress(self.done, self.total, message, None, fresh, announced,
                               self.open, eta if phase == "sweep" else None, phase)

    def close_all(self) -> None:
        self.stop_browse.set()
        for sock in list(self.sockets):
            close(sock, self.sockets)


def sweep(targets: TargetSet, options: m.SweepOptions | None = None
          ) -> Generator[m.SweepProgress, None, m.SweepResult]:
    """Yield progress (with the findings new since the last yield); return the SweepResult.

    Runs its own selector event loop on the calling thread (the GUI worker's or the CLI's);
    closing the generator cancels every attempt and probe and closes every socket.
    """
    options = options or m.SweepOptions.from_settings(Settings())
    started_at = datetime.now(UTC)
    # The selector loop everywhere: Windows' proactor has no add_writer, and select()'s
    # 512-socket limit there matches the highest concurrency the settings allow.
    loop = asyncio.SelectorEventLoop()
    # A sweep allocates fast enough to trigger full collections, and in the GUI process a full
    # collection walks Qt's, pydicom's and SQLAlchemy's long-lived objects for 100-200 ms with
    # the GIL held: the window freezes. Frozen objects are skipped; new garbage still goes.
    gc.freeze()
    engine: _Engine | None = None
    task: asyncio.Task | None = None
    try:
        engine = _Engine(targets, options, loop)
        task = loop.create_task(engine.run())
        yield engine.progress("sweep")
        while not task.done():
            loop.run_until_complete(engine.tick(task))
            if not task.done():
                yield engine.progress()
        task.result()
        final = engine.progress("done")
        yield final
        findings = sorted(engine.findings, key=lambda f: (socket.inet_aton(f.host), f.port))
        return m.SweepResult(targets, options, started_at,
                             time.perf_counter() - engine.started, engine.done, tuple(findings),
                             tuple(engine.announcements))
    finally:
        if task is not None and not task.done():
            task.cancel()
            pending = [task, *(engine.tasks if engine else ())]
            for t in pending:
                t.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        if engine is not None:
            engine.close_all()
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        gc.unfreeze()
