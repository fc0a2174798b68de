"""The DICOM probe of one open port: associate, classify, fingerprint, and guess the called AE."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import Awaitable, Callable, Iterable

from pacs_console.core.dicom.diagnosis.fingerprint import fingerprint
from pacs_console.core.discovery import models as m
from pacs_console.core.discovery.aetitles import candidates
from pacs_console.core.discovery.wire import (
    PDU_HEADER,
    RELEASE_RQ,
    Answer,
    associate_rq,
    classify,
    expected_length,
)

# Called AE of the first probe: a title no real node uses, so an acceptance means "any AE".
PROBE_AE = "PROBE-NO-SUCH-AE"
_IN_PROGRESS = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, getattr(errno, "WSAEWOULDBLOCK", -1)}


def connect(loop: asyncio.AbstractEventLoop, host: str, port: int, timeout: float,
            sockets: set[socket.socket]) -> asyncio.Future:
    """Future of ``(socket or None, latency_ms, error text)``; no task per attempt.

    Callbacks on the selector, not ``sock_connect`` + ``wait_for``: a /16 sweep makes 400,000
    attempts and a task each costs more than the connect itself.
    """
    future = loop.create_future()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    start = time.perf_counter()
    err = sock.connect_ex((host, port))
    if err not in _IN_PROGRESS:
        _finish(future, sock, err, start, sockets)
        return future
    sockets.add(sock)
    fd = sock.fileno()

    def writable() -> None:
        loop.remove_writer(fd)
        timer.cancel()
        _finish(future, sock, sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), start, sockets)

    def expired() -> None:
        loop.remove_writer(fd)
        sockets.discard(sock)
        sock.close()
        if not future.done():
            future.set_result((None, timeout * 1000, "timeout"))

    loop.add_writer(fd, writable)
    timer = loop.call_later(timeout, expired)
    return future


def _finish(future, sock, err: int, start: float, sockets: set) -> None:
    latency = (time.perf_counter() - start) * 1000
    if err == 0:
        sockets.add(sock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        result = (sock, latency, "")
    else:
        sockets.discard(sock)
        sock.close()
        result = (None, latency, errno.errorcode.get(err, str(err)))
    if not future.done():
        future.set_result(result)


def close(sock: socket.socket, sockets: set) -> None:
    sockets.discard(sock)
    sock.close()


async def _read(loop, sock: socket.socket, data: bytes, seconds: float) -> tuple[bytes, bool]:
    """Read until one whole PDU (or a non-DICOM answer) is in; ``(data, finished)``."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                chunk = await loop.sock_recv(sock, 65536)
                if not chunk:
                    return data, True
                data += chunk
                if len(data) >= PDU_HEADER:
                    total = expected_length(data)
                    if total is None or len(data) >= total:
                        return data, True
    except TimeoutError:
        return data, False
    except OSError:
        return data, True  # reset by the peer: classified from whatever arrived


async def exchange(loop, sock: socket.socket, called: str, calling: str, version: str,
                   timeout: float) -> tuple[Answer | None, bytes]:
    """Send an A-ASSOCIATE-RQ and read the answer; ``(None, b"")`` when nothing came in time."""
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_sendall(sock, associate_rq(called, calling, version))
    except (TimeoutError, OSError):
        return None, b""
    data, finished = await _read(loop, sock, b"", timeout * 0.75)
    if not data and not finished:
        # HTTP and other line-based servers wait for a line end before they say anything; a
        # DICOM peer that has not answered by now is given up on anyway.
        try:
            sock.send(b"\r\n\r\n")
        except OSError:
            pass
        data, finished = await _read(loop, sock, data, timeout * 0.25)
    if not data and not finished:
        return None, b""
    return classify(data), data


async def release(loop, sock: socket.socket, timeout: float) -> None:
    """A polite A-RELEASE; a peer that does not answer it is simply closed on."""
    try:
        async with asyncio.timeout(min(timeout, 1.0)):
            await loop.sock_sendall(sock, RELEASE_RQ)
            await loop.sock_recv(sock, 64)
    except (TimeoutError, OSError):
        pass


async def _ask(loop, sock: socket.socket, called: str, *, options: m.SweepOptions, version: str,
               sockets: set) -> Answer | None:
    """One A-ASSOCIATE-RQ calling ``called``, released when accepted; the socket is closed."""
    try:
        answer, _ = await exchange(loop, sock, called, options.calling_ae, version,
                                   options.timeout)
        if answer is not None and answer.kind == "accepted":
            await release(loop, sock, options.timeout)
    finally:
        close(sock, sockets)
    return answer


def _fingerprint(answer: Answer, ae_title: str, port: int) -> dict:
    fp = fingerprint(answer.implementation_class_uid, answer.implementation_version_name,
                     called_ae=ae_title, port=port)
    return {"implementation_class_uid": answer.implementation_class_uid,
            "implementation_version_name": answer.implementation_version_name,
            "vendor": fp["vendor"], "product": fp["product"], "version": fp["version"],
            "confidence": fp["confidence"]}


async def probe_dicom(loop, sock: socket.socket, host: str, port: int, latency_ms: float, *,
                      options: m.SweepOptions, version: str, sockets: set,
                      hints: Callable[[], Awaitable[tuple[list, list[str]]]]) -> m.Finding:
    """Classify an open port; for a node that checks the called AE, try known titles first.

    ``hints()`` returns (titles known for this host:port, titles the host announced); it may
    wait briefly for the host's web probe and the DNS-SD browse.
    """
    base = dict(host=host, port=port, service="dicom", latency_ms=round(latency_ms, 2))
    answer = await _ask(loop, sock, PROBE_AE, options=options, version=version, sockets=sockets)
    if answer is None:
        return m.Finding(**base, verdict=m.SILENT,
                         detail=f"accepted TCP, no answer to A-ASSOCIATE-RQ within {options.timeout:g} s")
    if answer.kind == "not-dicom":
        detail = answer.detail
        if detail.startswith("closed"):
            detail += " (not DICOM, or an access list that does not know this laptop)"
        return m.Finding(**base, verdict=m.NOT_DICOM, detail=detail)
    known, announced = await hints()
    if answer.kind == "accepted":
        ae, source = next(iter(candidates(port, known=known, hints=announced,
                                          dictionary=False)), ("", ""))
        return m.Finding(**base, verdict=m.ANY_AE, ae_title=ae, ae_source=source,
                         detail="accepts any called AE title: any device on the network can "
                         "store to or query it", **_fingerprint(answer, ae, port))
    if not answer.called_ae_rejected:
        return m.Finding(**base, verdict=m.REJECTED, detail=f"{answer.kind}: {answer.detail}")
    return await guess(loop, host, port, base, options=options, version=version,
                       sockets=sockets, known=known, announced=announced)


async def guess(loop, host: str, port: int, base: dict, *, options: m.SweepOptions,
                version: str, sockets: set, known: Iterable[str],
                announced: Iterable[str]) -> m.Finding:
    """Try titles one at a time, ``guess_interval`` apart, and stop at the first accepted."""
    tried = 0
    detail = "checks the called AE title"
    for title, source in candidates(port, known=known, hints=announced,
                                    site_titles=options.site_titles,
                                    dictionary=options.guess_ae, limit=options.max_guesses):
        if tried:
            await asyncio.sleep(options.guess_interval)
        tried += 1
        sock, _, error = await connect(loop, host, port, options.timeout, sockets)
        if sock is None:
            detail += f"; stopped guessing: connect {error}"
            break
        answer = await _ask(loop, sock, title, options=options, version=version, sockets=sockets)
        if answer is not None and answer.kind == "accepted":
            return m.Finding(**base, verdict=m.CHECKS_AE, ae_title=title, ae_source=source,
                             guesses=tried, detail=f"{detail}; {title} accepted",
                             **_fingerprint(answer, title, port))
        if answer is None or not answer.called_ae_rejected:
            why = "no answer" if answer is None else answer.detail
            detail += f"; stopped guessing after {tried}: {why}"
            break
    else:
        if tried:
            detail += f"; none of {tried} titles tried was accepted"
        elif not options.guess_ae:
            detail += " (title unknown; guess with --guess-ae)"
    return m.Finding(**base, verdict=m.CHECKS_AE, guesses=tried, detail=detail)
