"""Exact reads from a socket for the lean Upper Layer (``ul``): small reads (PDU headers,
command sets, query answers) are served from what the socket already held, read ahead up to
``READ_AHEAD``; a large body is received straight into its own buffer, never copied again.

A 200-match C-FIND read its PDUs with ~1,600 system calls (a header and a body each, and a
poll before every one); with the bytes read ahead it takes about ten.
"""

from __future__ import annotations

import time

READ_AHEAD = 64 << 10  # what one small read may take from the socket beyond its own bytes
_NOTHING = memoryview(b"")


class Reader:
    """``read(n, deadline)`` from one socket; the bytes received beyond the last read are
    kept for the next (so only this reader may read the socket)."""

    __slots__ = ("sock", "ahead")

    def __init__(self, sock) -> None:
        self.sock = sock
        self.ahead = _NOTHING

    def read(self, n: int, deadline: float | None = None) -> bytearray:
        """Exactly ``n`` bytes in a bytearray of their own. Raises TimeoutError (nothing in
        time, or ``deadline``, a ``time.monotonic()``, passed), EOFError (the peer closed)
        or the socket's OSError."""
        ahead = self.ahead
        if len(ahead) >= n:
            self.ahead = ahead[n:]
            return bytearray(ahead[:n])
        buf = bytearray(n)
        view, got = memoryview(buf), len(ahead)
        view[:got], self.ahead = ahead, _NOTHING
        while got < n:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self.sock.settimeout(remaining)
            if n - got >= READ_AHEAD:
                chunk = self.sock.recv_into(view[got:], n - got)
                if not chunk:
                    raise EOFError
                got += chunk
                continue
            data = self.sock.recv(READ_AHEAD)
            if not data:
                raise EOFError
            taken = min(len(data), n - got)
            if taken < len(data):  # more than this read needs: kept for the next ones
                data = memoryview(data)
                self.ahead = data[taken:]
                data = data[:taken]
            view[got:got + taken] = data
            got += taken
        return buf
