"""Small loopback web servers for tests: a request handler that answers in one call and logs
nothing, and a context manager that serves one on an OS-assigned port."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReplyHandler(http.server.BaseHTTPRequestHandler):
    """A handler whose ``do_*`` methods answer with ``reply``; the test output stays quiet."""

    def reply(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler], host: str = "127.0.0.1",
            tls: ssl.SSLContext | None = None) -> Iterator[http.server.ThreadingHTTPServer]:
    """``handler`` served on ``host`` and a port the OS picks (``server.server_address[1]``),
    over TLS when given a server-side context; shut down and closed on leaving."""
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
