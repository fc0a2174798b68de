"""A lean DICOM Upper Layer requestor for the bulk paths: one socket, driven by the caller.

pynetdicom passes every PDU between its socket reactor, its DIMSE queue and the caller's
thread and builds a dataset for every command set; for 200 C-FIND matches or 200 CT images
that Python overhead, not the network, kept the console behind DCMTK. This client does only
the happy path (PS3.8 9.3): anything unexpected raises ``Fallback`` before work has begun, and
the caller redoes it through pynetdicom, whose richer state gives the precise diagnosis.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field

from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID

from pacs_console.core.dicom import tls
from pacs_console.core.dicom.ae import IMPLEMENTATION_VERSION, set_nodelay
from pacs_console.core.dicom.target import Target

APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
_OWN_MAX_PDU = 0  # unlimited: the peer may send us PDUs as large as it likes
_RESULTS = {0: "Accepted", 1: "User Rejected", 2: "Provider Rejected",
            3: "Abstract Syntax Not Supported", 4: "Transfer Syntax(es) Not Supported"}
# Command set elements (PS3.7 E.1) and their VRs, for encoding and decoding group 0000.
_US = {0x0100, 0x0110, 0x0120, 0x0700, 0x0800, 0x0900, 0x1020, 0x1021, 0x1022, 0x1023,
       0x1031}
_UI = {0x0002, 0x0003, 0x1000, 0x1001}
NO_DATASET = 0x0101


class Fallback(Exception):
    """The lean path cannot go on; nothing was done that the full path could not redo."""


class Lost(Exception):
    """The association broke after work began (closed, aborted or timed out)."""

    def __init__(self, what: str, *, aborted: bool = False, timed_out: bool = False,
                 released: bool = False) -> None:
        super().__init__(what)
        self.aborted, self.timed_out, self.released = aborted, timed_out, released


@dataclass
class Accepted:
    context_id: int
    abstract_syntax: str
    transfer_syntax: str


@dataclass
class LeanAssociation:
    sock: socket.socket
    target: Target
    peer_max_pdu: int = 0
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    async_window: tuple[int, int] = (1, 1)
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    proposed: list[tuple[str, list[str]]] = field(default_factory=list)
    released: bool = False

    # -- sending ----------------------------------------------------------------------------
    def context_for(self, sop_class: str, syntaxes: tuple[str, ...] | None = None) -> Accepted | None:
        for cx in self.accepted:
            if cx.abstract_syntax == sop_class and (syntaxes is None or cx.transfer_syntax in syntaxes):
                return cx
        return None

    def send(self, context_id: int, command: bytes, dataset=None) -> None:
        """One DIMSE message: the command, then the dataset (bytes or a readable file)."""
        if dataset is None or isinstance(dataset, bytes | bytearray | memoryview):
            self._send_raw(self._fragments(context_id, command, 0x03) + (
                b"" if dataset is None else self._fragments(context_id, dataset, 0x02)))
            return
        self._send_raw(self._fragments(context_id, command, 0x03))
        # Whole multiples of the fragment size, a few MB at a time: one system call per block.
        size = self._fragment_size()
        block = size * max(1, (4 << 20) // size)
        chunk = dataset.read(block)
        while True:
            following = dataset.read(block)
            self._send_raw(self._fragments(context_id, chunk, 0x00 if following else 0x02))
            if not following:
                return
            chunk = following

    def _fragment_size(self) -> int:
        # 6 bytes of PDV header inside the PDU; unlimited peers still get 1 MiB slices so a
        # large image never needs one giant PDU.
        limit = self.peer_max_pdu or (1 << 20) + 6
        return max(limit - 6, 1)

    def _fragments(self, context_id: int, data, last_flags: int) -> bytes:
        """P-DATA-TF PDUs, one PDV each, joined; the last carries ``last_flags``."""
        view, size = memoryview(data), self._fragment_size()
        parts = []
        for offset in range(0, max(len(view), 1), size):
            piece = view[offset:offset + size]
            flags = last_flags if offset + size >= len(view) else last_flags & 0x01
            parts.append(struct.pack(">BBIIBB", 0x04, 0, len(piece) + 6, len(piece) + 2,
                                     context_id, flags))
            parts.append(piece)
        return b"".join(parts)

    # -- receiving --------------------------------------------------------------------------
    def receive(self, timeout: float) -> tuple[int, dict, bytes | None]:
        """The next DIMSE message: (context ID, command elements, dataset bytes or None)."""
        self.sock.settimeout(timeout)
        command, dataset = bytearray(), bytearray()
        context_id, fields, wants_dataset = 0, None, False
        while True:
            kind, body = self._pdu()
            if kind != 0x04:
                self._unexpected(kind, body)
            pos = 0
            while pos < len(body):
                length, context_id, flags = struct.unpack_from(">IBB", body, pos)
                data = body[pos + 6:pos + 4 + length]
                pos += 4 + length
                if flags & 0x01:
                    command += data
                    if flags & 0x02:
                        fields = decode_command(bytes(command))
                        wants_dataset = fields.get(0x0800, NO_DATASET) != NO_DATASET
                        if not wants_dataset:
                            return context_id, fields, None
                else:
                    dataset += data
                    if flags & 0x02 and fields is not None:
                        return context_id, fields, bytes(dataset)

    def _unexpected(self, kind: int, body: bytes) -> None:
        if kind == 0x07:
            raise Lost("the node aborted the association", aborted=True)
        if kind == 0x05:  # the peer wants to release mid-operation: answer, then report it
            self._send_raw(struct.pack(">BBII", 0x06, 0, 4, 0))
            raise Lost("the node released the association", released=True)
        raise Lost(f"unexpected PDU type 0x{kind:02X}", aborted=True)

    def _pdu(self) -> tuple[int, bytes]:
        header = self._read(6)
        kind, length = header[0], struct.unpack_from(">I", header, 2)[0]
        return kind, self._read(length)

    def _read(self, n: int) -> bytes:
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        try:
            while got < n:
                chunk = self.sock.recv_into(view[got:], n - got)
                if not chunk:
                    raise Lost("the node closed the connection")
                got += chunk
        except TimeoutError:
            raise Lost("no answer in time", timed_out=True) from None
        except OSError as exc:
            raise Lost(f"connection lost: {exc}") from None
        return bytes(buf)

    def _send_raw(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise Lost(f"connection lost while sending: {exc}") from None

    # -- ending -----------------------------------------------------------------------------
    def release(self) -> None:
        """A-RELEASE-RQ and wait for the RP; abort when the peer does not answer in time."""
        if self.released:
            return
        self.released = True
        try:
            self._send_raw(struct.pack(">BBII", 0x05, 0, 4, 0))
            self.sock.settimeout(self.target.timeouts.acse)
            while True:
                kind, _ = self._pdu()
                if kind in (0x06, 0x07):
                    break
        except Lost:
            self.abort()
        finally:
            self.sock.close()

    def abort(self) -> None:
        self.released = True
        try:
            self.sock.sendall(struct.pack(">BBIBBBB", 0x07, 0, 4, 0, 0, 0, 0))
        except OSError:
            pass  # already gone: nothing left to tell the peer
        self.sock.close()

    def report(self, timing: dict | None = None) -> dict:
        """The same shape as association.association_report(), from what the A-ASSOCIATE-AC said."""
        from pacs_console.core.dicom.association import uid_name
        from pacs_console.core.dicom.fingerprint import fingerprint

        target = self.target
        report = {
            "peer": {"ae_title": target.called_ae.strip(), "address": target.host,
                     "port": target.port, "max_pdu": self.peer_max_pdu,
                     "implementation_class_uid": self.implementation_class_uid,
                     "implementation_version_name": self.implementation_version_name,
                     "async_ops_window": {"invoked": self.async_window[0],
                                          "performed": self.async_window[1]},
                     "user_identity_response": None},
            "local": {"ae_title": target.calling_ae.strip(), "max_pdu": _OWN_MAX_PDU,
                      "implementation_version_name": IMPLEMENTATION_VERSION},
            "fingerprint": fingerprint(self.implementation_class_uid,
                                       self.implementation_version_name,
                                       called_ae=target.called_ae, port=target.port),
            "accepted": [{"abstract_syntax": cx.abstract_syntax, "name": uid_name(cx.abstract_syntax),
                          "transfer_syntax": cx.transfer_syntax,
                          "transfer_syntax_name": uid_name(cx.transfer_syntax), "role": "SCU"}
                         for cx in self.accepted],
            "rejected": [{**cx, "name": uid_name(cx["abstract_syntax"])} for cx in self.rejected],
        }
        if timing:
            report["timing"] = {k: round(v, 3) for k, v in timing.items() if isinstance(v, float)}
        return report


def open_lean(target: Target, contexts: list[tuple[str, list[str]]],
              timing: dict | None = None) -> LeanAssociation:
    """Connect and negotiate; ``Fallback`` on anything but an A-ASSOCIATE-AC."""
    timing = {} if timing is None else timing
    if not contexts or len(contexts) > 128:
        raise Fallback("context count")
    start = time.perf_counter()
    try:
        sock = socket.create_connection((target.host, target.port), timeout=target.timeouts.connect)
    except OSError as exc:
        raise Fallback(str(exc)) from None
    set_nodelay(sock)
    timing["connect_ms"] = (time.perf_counter() - start) * 1000
    try:
        if target.tls is not None:
            context = tls.client_context(target.tls)
            sock = context.wrap_socket(sock, server_hostname=tls.server_name(target.tls, target.host))
        assoc = LeanAssociation(sock, target, proposed=list(contexts))
        start = time.perf_counter()
        assoc._send_raw(associate_rq(target, contexts))
        sock.settimeout(target.timeouts.acse)
        kind, body = assoc._pdu()
        if kind != 0x02:
            raise Fallback(f"PDU 0x{kind:02X} instead of A-ASSOCIATE-AC")
        _parse_ac(assoc, body)
        timing["associate_ms"] = (time.perf_counter() - start) * 1000
    except (Lost, OSError, ValueError, struct.error, Fallback) as exc:
        sock.close()
        raise Fallback(str(exc)) from None
    if not assoc.accepted:
        assoc.abort()
        raise Fallback("no presentation context accepted")
    return assoc


def _item(kind: int, value: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(value)) + value


def associate_rq(target: Target, contexts: list[tuple[str, list[str]]]) -> bytes:
    items = [_item(0x10, APPLICATION_CONTEXT)]
    for n, (abstract, syntaxes) in enumerate(contexts):
        sub = _item(0x30, abstract.encode("ascii")) + b"".join(
            _item(0x40, ts.encode("ascii")) for ts in syntaxes)
        items.append(_item(0x20, struct.pack(">BBBB", 2 * n + 1, 0, 0, 0) + sub))
    user = (_item(0x51, struct.pack(">I", _OWN_MAX_PDU))
            + _item(0x52, str(PYNETDICOM_IMPLEMENTATION_UID).encode("ascii"))
            + _item(0x55, IMPLEMENTATION_VERSION.encode("ascii")))
    items.append(_item(0x50, user))
    body = (struct.pack(">HH", 1, 0) + target.called_ae.encode("ascii")[:16].ljust(16)
            + target.calling_ae.encode("ascii")[:16].ljust(16) + bytes(32) + b"".join(items))
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def _uid(raw: bytes) -> str:
    return raw.rstrip(b"\x00 ").decode("ascii")


def _parse_ac(assoc: LeanAssociation, body: bytes) -> None:
    by_id = {2 * n + 1: cx for n, cx in enumerate(assoc.proposed)}
    pos = 68
    while pos + 4 <= len(body):
        kind, length = body[pos], struct.unpack_from(">H", body, pos + 2)[0]
        value = body[pos + 4:pos + 4 + length]
        pos += 4 + length
        if kind == 0x21:
            context_id, result = value[0], value[2]
            abstract, syntaxes = by_id.get(context_id, ("", []))
            if result == 0 and len(value) >= 8 and value[4] == 0x40:
                ts_len = struct.unpack_from(">H", value, 6)[0]
                transfer = _uid(value[8:8 + ts_len])
                if abstract and transfer in syntaxes:
                    assoc.accepted.append(Accepted(context_id, abstract, transfer))
                    continue
            assoc.rejected.append({"abstract_syntax": abstract, "proposed": list(syntaxes),
                                   "result": _RESULTS.get(result, "Unknown")})
        elif kind == 0x50:
            _parse_user(assoc, value)


def _parse_user(assoc: LeanAssociation, value: bytes) -> None:
    pos = 0
    while pos + 4 <= len(value):
        kind, length = value[pos], struct.unpack_from(">H", value, pos + 2)[0]
        sub = value[pos + 4:pos + 4 + length]
        pos += 4 + length
        if kind == 0x51 and length == 4:
            assoc.peer_max_pdu = struct.unpack(">I", sub)[0]
        elif kind == 0x52:
            assoc.implementation_class_uid = _uid(sub)
        elif kind == 0x55:
            assoc.implementation_version_name = sub.decode("ascii", "replace").strip()
        elif kind == 0x53 and length == 4:
            assoc.async_window = struct.unpack(">HH", sub)


# -- command sets (implicit VR little endian, group 0000) -------------------------------------
def encode_command(fields: dict[int, object]) -> bytes:
    """Group 0000 with its group length first; ints are US (UL for nothing we send)."""
    parts = []
    for element in sorted(fields):
        value = fields[element]
        if isinstance(value, int):
            raw = struct.pack("<H", value)
        else:
            raw = str(value).encode("ascii")
            if len(raw) % 2:
                raw += b"\x00" if element in _UI else b" "
        parts.append(struct.pack("<HHI", 0, element, len(raw)) + raw)
    body = b"".join(parts)
    return struct.pack("<HHII", 0, 0, 4, len(body)) + body


def decode_command(raw: bytes) -> dict[int, object]:
    fields: dict[int, object] = {}
    pos = 0
    while pos + 8 <= len(raw):
        group, element, length = struct.unpack_from("<HHI", raw, pos)
        value = raw[pos + 8:pos + 8 + length]
        pos += 8 + length
        if group != 0:
            continue
        if element in _US and length == 2:
            fields[element] = struct.unpack("<H", value)[0]
        elif element == 0:
            continue
        else:
            fields[element] = value.rstrip(b"\x00 ").decode("ascii", "replace")
    return fields
