"""The Storage SCP's acceptor on the lean Upper Layer: C-STORE and C-ECHO, one thread a peer.

Received through pynetdicom, a C-MOVE of a CT study crossed three threads per PDU and stayed
near 55-75 MB/s on loopback; read here, each message goes from the socket to its file.

It listens on hospital networks, so every door is bounded (``Limits``): associations in all
and per calling address (over the cap: A-ASSOCIATE-RJ "local limit exceeded" without a
thread), dataset bytes held in memory across all associations (over it: 0xA700), the
A-ASSOCIATE-RQ must arrive within the ACSE timeout (ARTIM) and an association idle for
``idle_timeout`` is aborted. Every PDU is read through the bounded codec in ``wire.pdu``.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

from pacs_console.core.dicom.wire import pdu, ul
from pacs_console.core.dicom.wire.params import (
    IMPLEMENTATION_CLASS_UID as PYNETDICOM_IMPLEMENTATION_UID,
)
from pacs_console.core.dicom.wire.params import IMPLEMENTATION_VERSION, Timeouts, set_nodelay
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.records import record
from pacs_console.core.streams import answer_and_close

log = logging.getLogger(__name__)
VERIFICATION = "1.2.840.10008.1.1"
_VERIFICATION_SYNTAXES = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
C_STORE_RQ, C_ECHO_RQ = 0x0001, 0x0030
OUT_OF_RESOURCES = 0xA700
_LIMIT_RJ = pdu.associate_rj(2, 3, 2)  # rejected-transient, provider (presentation), local limit
_REJECTING = 256  # connections over the caps waiting for their A-ASSOCIATE-RJ, at most


@record(frozen=True)
class Limits:
    """What one peer, or all of them together, may take from this laptop."""

    max_associations: int = 16
    per_address: int = 6
    bytes_in_flight: int = 512 << 20
    idle_timeout: float = 60.0
    max_pdu: int = pdu.DEFAULT_MAX_PDU


@record(frozen=True)
class StoreRequest:
    """One received C-STORE, the dataset still in the bytes it came in."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    dataset: bytes
    calling_ae: str


class ByteBudget:
    """Dataset bytes held in memory by all associations together."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self._lock = threading.Lock()

    def take(self, n: int) -> bool:
        with self._lock:
            if self.used + n > self.limit:
                return False
            self.used += n
            return True

    def give(self, n: int) -> None:
        with self._lock:
            self.used = max(0, self.used - n)


class LeanStorageServer:
    """Listens on (host, port); ``on_store`` files each request and returns its status
    (or ``(status, reason)``); ``accept(calling_ae)`` says whether a peer may associate."""

    def __init__(self, host: str, port: int, ae_title: str, timeouts: Timeouts,
                 syntaxes_for: Callable[[str], tuple[str, ...]],
                 on_store: Callable[[StoreRequest], int | tuple[int, str]], *,
                 limits: Limits | None = None,
                 accept: Callable[[str], bool] | None = None) -> None:
        self.ae_title, self.timeouts = ae_title, timeouts
        self.syntaxes_for, self.on_store = syntaxes_for, on_store
        self.limits, self.accept = limits or Limits(), accept
        self.budget = ByteBudget(self.limits.bytes_in_flight)
        self.listener = socket.create_server((host, port), backlog=64)
        self.server_address = self.listener.getsockname()
        self._open: dict[socket.socket, str] = {}
        self._per_address: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._closing = False
        self._rejects: queue.Queue = queue.Queue(_REJECTING)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"storage-scp-{self.server_address[1]}")
        self._thread.start()
        threading.Thread(target=self._reject_loop, daemon=True, name="storage-scp-rj").start()

    def shutdown(self) -> None:
        """Stop listening and drop the associations still open (as pynetdicom's server does)."""
        self._closing = True
        for action in (lambda: self.listener.shutdown(socket.SHUT_RDWR), self.listener.close):
            try:
                action()
            except OSError:
                pass  # already closed
        with self._lock:
            connections = list(self._open)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the peer left first
        try:
            self._rejects.put_nowait(None)
        except queue.Full:
            pass  # the refusing thread is a daemon: it ends with the process
        self._thread.join(timeout=2)

    server_close = shutdown

    @property
    def associations(self) -> int:
        with self._lock:
            return len(self._open)

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                conn, address = self.listener.accept()
            except OSError:
                if self._closing:
                    return  # the listener was closed by shutdown()
                time.sleep(0.05)  # out of file descriptors, say: never spin, never die
                continue
            host = address[0]
            with self._lock:
                full = (len(self._open) >= self.limits.max_associations
                        or self._per_address[host] >= self.limits.per_address)
                if not full:
                    self._open[conn] = host
                    self._per_address[host] += 1
            if full:
                self._refuse(conn, host)
                continue
            set_nodelay(conn)
            threading.Thread(target=self._serve, args=(conn, address), daemon=True,
                             name="storage-scp-assoc").start()

    def _refuse(self, conn: socket.socket, host: str) -> None:
        log.warning("Storage SCP: refused a connection from %s (association limits reached)", host)
        try:
            self._rejects.put_nowait(conn)
        except queue.Full:
            conn.close()

    def _reject_loop(self) -> None:
        """A-ASSOCIATE-RJ to each connection over the caps; its request is read and dropped
        for a moment first, so the close is not a reset that loses the answer."""
        while True:
            conn = self._rejects.get()
            if conn is None:
                return
            answer_and_close(conn, _LIMIT_RJ)

    def _serve(self, conn: socket.socket, address) -> None:
        assoc = None
        try:
            assoc = self._negotiate(conn, address)
            if assoc is not None:
                self._messages(assoc)
        except (ul.Lost, OSError) as exc:
            log.info("Storage SCP association from %s ended: %s", address[0], exc)
        except Exception:  # noqa: BLE001 - one association's fault never ends the server
            log.exception("Storage SCP association from %s failed", address[0])
            _abort(conn)
        finally:
            if assoc is not None:
                assoc.give_back()
            with self._lock:
                host = self._open.pop(conn, None)
                if host is not None:
                    self._per_address[host] -= 1
                    if self._per_address[host] <= 0:
                        del self._per_address[host]
            conn.close()

    def _negotiate(self, conn: socket.socket, address) -> ul.LeanAssociation | None:
        conn.settimeout(self.timeouts.acse)
        probe = ul.LeanAssociation(conn, Target(address[0], address[1], self.ae_title,
                                                timeouts=self.timeouts),
                                   own_max_pdu=self.limits.max_pdu,
                                   message_limit=self.limits.bytes_in_flight, budget=self.budget)
        probe.deadline = time.monotonic() + self.timeouts.acse  # ARTIM
        kind, body = probe._pdu()
        if kind != pdu.ASSOCIATE_RQ:
            probe.abort()
            return None
        try:
            rq = pdu.decode_associate(kind, body)
        except pdu.ProtocolError as exc:
            log.info("Storage SCP: malformed A-ASSOCIATE-RQ from %s: %s", address[0], exc.what)
            probe.abort()
            return None
        probe.deadline = None
        if rq.application_context != pdu.APPLICATION_CONTEXT:
            probe._send_raw(pdu.associate_rj(1, 1, 2))  # application context not supported
            return None
        if self.accept is not None and not self.accept(rq.calling_ae):
            log.warning("Storage SCP: refused calling AE %r from %s (not in the address book)",
                        rq.calling_ae, address[0])
            probe._send_raw(pdu.associate_rj(1, 1, 3))  # calling AE title not recognised
            return None
        accepted, answers = [], []
        for cx in rq.contexts:
            supported = (_VERIFICATION_SYNTAXES if cx.abstract_syntax == VERIFICATION
                         else self.syntaxes_for(cx.abstract_syntax))
            chosen = next((ts for ts in cx.transfer_syntaxes if ts in supported), None)
            result = 0 if chosen else (4 if supported else 3)
            answers.append(pdu.Context(cx.id, transfer_syntaxes=[chosen or cx.transfer_syntaxes[0]],
                                       result=result))
            if chosen:
                accepted.append(ul.Accepted(cx.id, cx.abstract_syntax, chosen))
        user = pdu.UserInfo(self.limits.max_pdu, str(PYNETDICOM_IMPLEMENTATION_UID),
                            IMPLEMENTATION_VERSION)
        probe._send_raw(pdu.associate_ac(rq.called_raw, rq.calling_raw, answers, user))
        probe.accepted, probe.peer_max_pdu = accepted, rq.user.max_pdu
        probe.target = Target(address[0], address[1], self.ae_title, rq.calling_ae or "ANY",
                              timeouts=self.timeouts)
        return probe

    def _messages(self, assoc: ul.LeanAssociation) -> None:
        by_id = {cx.context_id: cx for cx in assoc.accepted}
        while True:
            try:
                context_id, fields, data = assoc.receive(self.limits.idle_timeout)
            except ul.Lost as lost:
                if lost.timed_out:
                    assoc.abort()  # idle too long: the slot goes to someone with work
                if not lost.released:
                    raise
                return
            cx = by_id.get(context_id)
            command, msg_id = fields.get(0x0100), fields.get(0x0110, 0)
            if cx is None or command not in (C_STORE_RQ, C_ECHO_RQ) or not isinstance(msg_id, int):
                assoc.abort()  # a context never accepted, or a service this SCP does not offer
                return
            comment = ""
            if command == C_ECHO_RQ:
                status, reply = 0, {0x0002: VERIFICATION, 0x0100: 0x8030}
            else:
                request = StoreRequest(str(fields.get(0x0002, cx.abstract_syntax)),
                                       str(fields.get(0x1000, "")), cx.transfer_syntax,
                                       data or b"", assoc.target.calling_ae)
                if assoc.overflowed:
                    status, comment = OUT_OF_RESOURCES, "too much data in flight; try again"
                else:
                    outcome = self.on_store(request)
                    status, comment = outcome if isinstance(outcome, tuple) else (outcome, "")
                reply = {0x0002: request.sop_class_uid, 0x0100: 0x8001,
                         0x1000: request.sop_instance_uid}
            reply.update({0x0120: msg_id, 0x0800: ul.NO_DATASET, 0x0900: status})
            if comment:
                reply[0x0902] = comment[:64]  # Error Comment (LO)
            assoc.give_back()
            assoc.send(context_id, pdu.encode_command(reply))


def _abort(conn: socket.socket) -> None:
    try:
        conn.sendall(pdu.abort())
    except OSError:
        pass  # already gone
