"""The Storage SCP's acceptor on the lean Upper Layer: C-STORE and C-ECHO, one thread a peer.

Received through pynetdicom, a C-MOVE of a CT study crossed three threads per PDU and stayed
near 55-75 MB/s on loopback; read here, each message goes from the socket to its file.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID

from pacs_console.core.dicom import ul
from pacs_console.core.dicom.ae import IMPLEMENTATION_VERSION, set_nodelay
from pacs_console.core.dicom.params import Timeouts
from pacs_console.core.dicom.target import Target

log = logging.getLogger(__name__)
VERIFICATION = "1.2.840.10008.1.1"
_VERIFICATION_SYNTAXES = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
C_STORE_RQ, C_ECHO_RQ = 0x0001, 0x0030


@dataclass(frozen=True)
class StoreRequest:
    """One received C-STORE, the dataset still in the bytes it came in."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    dataset: bytes
    calling_ae: str


class LeanStorageServer:
    """Listens on (host, port); ``on_store`` files each request and returns its status."""

    def __init__(self, host: str, port: int, ae_title: str, timeouts: Timeouts,
                 syntaxes_for: Callable[[str], tuple[str, ...]],
                 on_store: Callable[[StoreRequest], int]) -> None:
        self.ae_title, self.timeouts = ae_title, timeouts
        self.syntaxes_for, self.on_store = syntaxes_for, on_store
        self.listener = socket.create_server((host, port), backlog=16)
        self.server_address = self.listener.getsockname()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closing = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"storage-scp-{self.server_address[1]}")
        self._thread.start()

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
        self._thread.join(timeout=2)

    server_close = shutdown

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                conn, address = self.listener.accept()
            except OSError:
                return  # the listener was closed by shutdown()
            set_nodelay(conn)
            with self._lock:
                self._open.add(conn)
            threading.Thread(target=self._serve, args=(conn, address), daemon=True,
                             name="storage-scp-assoc").start()

    def _serve(self, conn: socket.socket, address) -> None:
        try:
            assoc = self._negotiate(conn, address)
            if assoc is not None:
                self._messages(assoc)
        except (ul.Lost, OSError, ValueError, struct.error) as exc:
            log.info("Storage SCP association from %s ended: %s", address[0], exc)
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()

    def _negotiate(self, conn: socket.socket, address) -> ul.LeanAssociation | None:
        conn.settimeout(self.timeouts.acse)
        probe = ul.LeanAssociation(conn, Target(address[0], address[1], self.ae_title,
                                                timeouts=self.timeouts))
        kind, body = probe._pdu()
        if kind != 0x01 or len(body) < 68:
            probe.abort()
            return None
        calling = body[20:36].decode("ascii", "replace").strip()
        called_raw = body[4:20]
        contexts, application_ok, peer_max = _parse_rq(body)
        if not application_ok:
            # A-ASSOCIATE-RJ: rejected permanent, service user, application context not supported
            probe._send_raw(struct.pack(">BBIBBBB", 0x03, 0, 4, 0, 1, 1, 2))
            return None
        accepted, items = [], [_item(0x10, ul.APPLICATION_CONTEXT)]
        for context_id, abstract, syntaxes in contexts:
            supported = (_VERIFICATION_SYNTAXES if abstract == VERIFICATION
                         else self.syntaxes_for(abstract))
            chosen = next((ts for ts in syntaxes if ts in supported), None)
            result = 0 if chosen else (4 if supported else 3)
            sub = _item(0x40, (chosen or (syntaxes[0] if syntaxes else "")).encode("ascii"))
            items.append(_item(0x21, struct.pack(">BBBB", context_id, 0, result, 0) + sub))
            if chosen:
                accepted.append(ul.Accepted(context_id, abstract, chosen))
        items.append(_item(0x50, _item(0x51, struct.pack(">I", 0))
                           + _item(0x52, str(PYNETDICOM_IMPLEMENTATION_UID).encode("ascii"))
                           + _item(0x55, IMPLEMENTATION_VERSION.encode("ascii"))))
        ac = (struct.pack(">HH", 1, 0) + called_raw + body[20:36] + bytes(32) + b"".join(items))
        probe._send_raw(struct.pack(">BBI", 0x02, 0, len(ac)) + ac)
        probe.accepted, probe.peer_max_pdu = accepted, peer_max
        probe.target = Target(address[0], address[1], self.ae_title, calling or "ANY",
                              timeouts=self.timeouts)
        return probe

    def _messages(self, assoc: ul.LeanAssociation) -> None:
        by_id = {cx.context_id: cx for cx in assoc.accepted}
        while True:
            try:
                context_id, fields, data = assoc.receive(self.timeouts.network)
            except ul.Lost as lost:
                if not lost.released:
                    raise
                return
            cx = by_id.get(context_id)
            command, msg_id = fields.get(0x0100), fields.get(0x0110, 0)
            if cx is None or command not in (C_STORE_RQ, C_ECHO_RQ):
                assoc.abort()  # a context never accepted, or a service this SCP does not offer
                return
            if command == C_ECHO_RQ:
                status, reply = 0, {0x0002: VERIFICATION, 0x0100: 0x8030}
            else:
                request = StoreRequest(str(fields.get(0x0002, cx.abstract_syntax)),
                                       str(fields.get(0x1000, "")), cx.transfer_syntax,
                                       data or b"", assoc.target.calling_ae)
                status = self.on_store(request)
                reply = {0x0002: request.sop_class_uid, 0x0100: 0x8001,
                         0x1000: request.sop_instance_uid}
            reply.update({0x0120: msg_id, 0x0800: ul.NO_DATASET, 0x0900: status})
            assoc.send(context_id, ul.encode_command(reply))


def _item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(value)) + value


def _parse_rq(body: bytes) -> tuple[list[tuple[int, str, list[str]]], bool, int]:
    contexts: list[tuple[int, str, list[str]]] = []
    application_ok, peer_max, pos = False, 0, 68
    while pos + 4 <= len(body):
        kind, length = body[pos], struct.unpack_from(">H", body, pos + 2)[0]
        value = body[pos + 4:pos + 4 + length]
        pos += 4 + length
        if kind == 0x10:
            application_ok = value.rstrip(b"\x00 ") == ul.APPLICATION_CONTEXT
        elif kind == 0x20:
            abstract, syntaxes, sub = "", [], 4
            while sub + 4 <= len(value):
                sub_kind, sub_len = value[sub], struct.unpack_from(">H", value, sub + 2)[0]
                uid = value[sub + 4:sub + 4 + sub_len].rstrip(b"\x00 ").decode("ascii", "replace")
                sub += 4 + sub_len
                if sub_kind == 0x30:
                    abstract = uid
                elif sub_kind == 0x40:
                    syntaxes.append(uid)
            contexts.append((value[0], abstract, syntaxes))
        elif kind == 0x50:
            sub = 0
            while sub + 4 <= len(value):
                sub_kind, sub_len = value[sub], struct.unpack_from(">H", value, sub + 2)[0]
                if sub_kind == 0x51 and sub_len == 4:
                    peer_max = struct.unpack_from(">I", value, sub + 4)[0]
                sub += 4 + sub_len
    return contexts, application_ok, peer_max
