"""The few DICOM upper-layer PDUs a probe needs: A-ASSOCIATE-RQ out, AC/RJ/ABORT classified in."""

from __future__ import annotations

import struct
from dataclasses import dataclass

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
# pynetdicom's implementation class UID: our associations are pynetdicom-compatible and the
# peers' logs then show the same identity whether the console probes or runs a test.
IMPLEMENTATION_UID = "1.2.826.0.1.3680043.9.3811.3.0.4"
RELEASE_RQ = b"\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00"
# PDU types: 2 AC, 3 RJ, 7 A-ABORT; anything else in the first byte is not DICOM.
PDU_HEADER = 6
MAX_ANSWER = 1 << 20

_REJECT = {(1, 1): "no reason given", (1, 2): "application context not supported",
           (1, 3): "calling AE title not recognised", (1, 7): "called AE title not recognised",
           (2, 1): "no reason given (ACSE)", (2, 2): "protocol version not supported",
           (3, 1): "temporary congestion", (3, 2): "local limit exceeded"}


def _item(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", kind, 0, len(payload)) + payload


def _ae(title: str) -> bytes:
    return title.encode("ascii", "replace")[:16].ljust(16, b" ")


def associate_rq(called: str, calling: str, version_name: str) -> bytes:
    """An A-ASSOCIATE-RQ proposing Verification (implicit and explicit little endian)."""
    context = (struct.pack(">BBBB", 1, 0, 0, 0) + _item(0x30, VERIFICATION.encode())
               + _item(0x40, IMPLICIT_LE.encode()) + _item(0x40, EXPLICIT_LE.encode()))
    user = (_item(0x51, struct.pack(">I", 16382)) + _item(0x52, IMPLEMENTATION_UID.encode())
            + _item(0x55, version_name.encode("ascii", "replace")[:16]))
    body = (struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + bytes(32)
            + _item(0x10, APPLICATION_CONTEXT.encode()) + _item(0x20, context)
            + _item(0x50, user))
    return struct.pack(">BBI", 1, 0, len(body)) + body


@dataclass(frozen=True)
class Answer:
    """What a peer sent back to an A-ASSOCIATE-RQ."""

    kind: str  # accepted, rejected, aborted, not-dicom
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    max_pdu: int = 0
    verification: bool = False  # the Verification context was accepted
    result: int = 0
    source: int = 0
    reason: int = 0
    detail: str = ""

    @property
    def called_ae_rejected(self) -> bool:
        return self.kind == "rejected" and (self.source, self.reason) == (1, 7)


def expected_length(header: bytes) -> int | None:
    """Total PDU length from the 6-byte header; None when it cannot be a DICOM answer."""
    if len(header) < PDU_HEADER or header[0] not in (2, 3, 7) or header[1] != 0:
        return None
    length = struct.unpack(">I", header[2:6])[0]
    if length > MAX_ANSWER or (header[0] in (3, 7) and length != 4):
        return None
    return PDU_HEADER + length


def _printable(data: bytes) -> str:
    text = data[:40].decode("latin-1")
    return "".join(ch if 32 <= ord(ch) < 127 else "." for ch in text)


def classify(data: bytes) -> Answer:
    """Classify a complete answer (``data`` holds at least the first PDU or whatever came)."""
    total = expected_length(data)
    if total is None or len(data) < total:
        if data.startswith(b"HTTP/") or data.lstrip()[:5].lower() in (b"<!doc", b"<html"):
            return Answer("not-dicom", detail=f"an HTTP server answered {_printable(data)!r}")
        return Answer("not-dicom", detail=f"answered {_printable(data)!r}" if data else
                      "closed the connection without answering")
    kind = data[0]
    if kind == 3:
        result, source, reason = data[7], data[8], data[9]
        text = _REJECT.get((source, reason), f"source {source}, reason {reason}")
        return Answer("rejected", result=result, source=source, reason=reason, detail=text)
    if kind == 7:
        return Answer("aborted", source=data[8], reason=data[9],
                      detail="aborted the association request")
    return _accepted(data[:total])


def _accepted(pdu: bytes) -> Answer:
    uid = version = ""
    max_pdu = 0
    verification = False
    offset = PDU_HEADER + 68  # protocol version, reserved, AE titles, reserved
    while offset + 4 <= len(pdu):
        kind, length = pdu[offset], struct.unpack(">H", pdu[offset + 2:offset + 4])[0]
        value = pdu[offset + 4:offset + 4 + length]
        if kind == 0x21 and len(value) >= 3:
            verification = verification or value[2] == 0
        elif kind == 0x50:
            sub = 0
            while sub + 4 <= len(value):
                skind, slen = value[sub], struct.unpack(">H", value[sub + 2:sub + 4])[0]
                svalue = value[sub + 4:sub + 4 + slen]
                if skind == 0x51 and slen == 4:
                    max_pdu = struct.unpack(">I", svalue)[0]
                elif skind == 0x52:
                    uid = svalue.decode("ascii", "replace").rstrip("\x00 ")
                elif skind == 0x55:
                    version = svalue.decode("ascii", "replace").rstrip("\x00 ")
                sub += 4 + slen
        offset += 4 + length
    return Answer("accepted", uid, version, max_pdu, verification)
