"""The console's ear during the C-MOVE check: a listener on the address the node sees this
console at, noting every association the node opens while it handles a move to a destination
AE nobody configured, and refusing each one (A-ASSOCIATE-RJ, called AE not recognised) so no
image is ever received. Every PDU is read through ``dicom.wire.pdu``'s bounded reader; a
malformed one is noted as such, never parsed further."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from pacs_console.core.dicom.wire import pdu, ul
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.streams import accepted, answer_and_close

MAX_SEEN = 8  # associations noted per move; more are refused unread
_REFUSE = pdu.associate_rj(1, 1, 7)  # rejected-permanent, service user, called AE not recognised


@dataclass(frozen=True)
class Attempt:
    """One association the node opened to the listener."""

    address: str  # where it came from
    called_ae: str  # "" when the request was malformed
    calling_ae: str
    note: str = ""  # what was wrong with a malformed request

    def text(self) -> str:
        if self.note:
            return f"{self.address} connected ({self.note})"
        return (f"{self.address} opened an association (called AE {self.called_ae!r}, "
                f"calling AE {self.calling_ae!r})")


class MoveListener:
    """``with MoveListener(address, port) as ear: ...``; ``ear.seen`` lists the attempts.

    ``port`` 0 takes an OS-assigned port; a busy port falls back to one (``fell_back``)."""

    def __init__(self, address: str, port: int = 0, timeout: float = 3.0) -> None:
        self.address, self.timeout = address, timeout
        self.seen: list[Attempt] = []
        self.fell_back = False
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        try:
            self._socket = socket.create_server((address, port))
        except OSError:
            if not port:
                raise
            self._socket = socket.create_server((address, 0))
            self.fell_back = True
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True,
                                        name="assess-move-listener")

    def __enter__(self) -> MoveListener:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for an attempt (a node may connect after its answer)."""
        return self._arrived.wait(seconds)

    def close(self) -> None:
        try:  # shutdown wakes the accept() blocked in the thread (close alone does not)
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()
        self._thread.join(timeout=self.timeout + 1)

    def _accept(self) -> None:
        for conn, peer in accepted(self._socket):
            with conn:
                attempt = self._hear(conn, peer[0])
            with self._lock:
                if len(self.seen) < MAX_SEEN:
                    self.seen.append(attempt)
            self._arrived.set()

    def _hear(self, conn: socket.socket, address: str) -> Attempt:
        """Read the A-ASSOCIATE-RQ (bounded, within ``timeout``) and refuse it."""
        probe = ul.LeanAssociation(conn, Target(address, 0, "", timeouts=Timeouts(
            connect=self.timeout, acse=self.timeout, dimse=self.timeout, network=self.timeout)))
        probe.deadline = time.monotonic() + self.timeout
        try:
            kind, body = probe._pdu()
            if kind != pdu.ASSOCIATE_RQ:
                return Attempt(address, "", "", f"PDU type 0x{kind:02X} instead of an "
                                                "A-ASSOCIATE-RQ")
            rq = pdu.decode_associate(kind, body)
        except ul.Lost as lost:
            return Attempt(address, "", "", f"no association request: {str(lost)[:100]}")
        except pdu.ProtocolError as exc:
            return Attempt(address, "", "", f"malformed A-ASSOCIATE-RQ: {exc.what[:100]}")
        answer_and_close(conn, _REFUSE)
        return Attempt(address, rq.called_ae[:16], rq.calling_ae[:16])


def local_address(sock) -> str:
    """The address this console has on the association's network (what the node sees)."""
    try:
        return str(sock.getsockname()[0])
    except (OSError, IndexError):
        return ""
