"""Generator helpers: batch a stream of items so a GUI gets a few signals a second, not thousands;
the connections a listening socket accepts, one at a time, until it is closed."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator

TYPE_CHECKING = False  # typing itself costs the C-MOVE listener's start ~2 ms to import
if TYPE_CHECKING:
    import socket
    from typing import Any


def batched(source: Generator, max_items: int = 500, max_seconds: float = 0.05
            ) -> Generator[list, None, Any]:
    """Yield lists of the source's items, at most every ``max_seconds`` or ``max_items``.

    Returns the source's own return value; closing this generator closes the source (so a
    C-FIND is cancelled with C-CANCEL, a retrieve stops, and so on).
    """
    batch: list = []
    last = time.perf_counter()
    try:
        while True:
            try:
                item = next(source)
            except StopIteration as stop:
                if batch:
                    yield batch
                return stop.value
            batch.append(item)
            now = time.perf_counter()
            if len(batch) >= max_items or now - last >= max_seconds:
                yield batch
                batch, last = [], now
    finally:
        source.close()


def accepted(listener: socket.socket) -> Iterator[tuple[socket.socket, Any]]:
    """``(connection, peer address)`` for each connection ``listener`` accepts; ends when the
    listener is closed or shut down (``accept()`` raises OSError), so a thread can loop on it."""
    while True:
        try:
            connection = listener.accept()
        except OSError:
            return
        yield connection


def answer_and_close(conn: socket.socket, answer: bytes, linger: float = 0.2) -> None:
    """Send a last answer (an A-ASSOCIATE-RJ) and close so the peer can read it: what the peer
    sent beyond what was read is drained for up to ``linger`` seconds first, since closing a
    socket with unread input sends a reset, and a reset can discard the answer before the
    peer reads it. Never raises; the connection is closed either way."""
    import socket as _socket

    try:
        conn.settimeout(linger)
        conn.sendall(answer)
        conn.shutdown(_socket.SHUT_WR)
        deadline = time.monotonic() + linger
        while time.monotonic() < deadline and conn.recv(65536):
            pass
    except OSError:
        pass  # gone, or silent: either way it is closed now
    finally:
        conn.close()
