"""A TCP listener on an OS-assigned loopback port for test peers that script what a node does
with each connection (say nothing, answer bytes, forward them, read and drop them)."""

from __future__ import annotations

import socket
import threading

from pacs_console.core.streams import accepted


class LoopbackListener:
    """Accepts on ``host`` (a loopback address, 127.0.0.1 unless told) until ``close()`` and hands
    every connection to ``handle`` (on the accepting thread: start a thread there for long work).
    A subclass sets its own attributes before calling ``super().__init__()``, which starts
    accepting."""

    def __init__(self, backlog: int = 128, host: str = "127.0.0.1") -> None:
        self.sock = socket.create_server((host, 0), backlog=backlog)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        for conn, _ in accepted(self.sock):
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def hold(self, conn: socket.socket) -> None:
        """Keep the connection open and say nothing (a hung node) until ``close()``."""
        self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()
