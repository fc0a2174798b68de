"""What a probe makes of a peer's answer: the PDUs themselves come from ``dicom.wire.pdu``."""

from __future__ import annotations

from dataclasses import dataclass

from pacs_console.core.dicom.wire import pdu

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
# pynetdicom's implementation class UID: our associations are pynetdicom-compatible and the
# peers' logs then show the same identity whether the console probes or runs a test.
IMPLEMENTATION_UID = "1.2.826.0.1.3680043.9.3811.3.0.4"
RELEASE_RQ = pdu.release_rq()
# PDU types: 2 AC, 3 RJ, 7 A-ABORT; anything else in the first byte is not DICOM.
PDU_HEADER = pdu.HEADER
MAX_ANSWER = 1 << 20
PROBE_MAX_PDU = 16382

_REJECT = {(1, 1): "no reason given", (1, 2): "application context not supported",
           (1, 3): "calling AE title not recognised", (1, 7): "called AE title not recognised",
           (2, 1): "no reason given (ACSE)", (2, 2): "protocol version not supported",
           (3, 1): "temporary congestion", (3, 2): "local limit exceeded"}


def associate_rq(called: str, calling: str, version_name: str) -> bytes:
    """An A-ASSOCIATE-RQ proposing Verification (implicit and explicit little endian)."""
    return pdu.associate_rq(called, calling, [(VERIFICATION, [IMPLICIT_LE, EXPLICIT_LE])],
                            pdu.UserInfo(PROBE_MAX_PDU, IMPLEMENTATION_UID, version_name))


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
    try:
        _, length = pdu.check_header(bytes(header[:PDU_HEADER]), MAX_ANSWER)
    except pdu.ProtocolError:
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
    kind, body = data[0], data[PDU_HEADER:total]
    if kind == pdu.ASSOCIATE_RJ:
        result, source, reason = pdu.decode_reason(body)
        text = _REJECT.get((source, reason), f"source {source}, reason {reason}")
        return Answer("rejected", result=result, source=source, reason=reason, detail=text)
    if kind == pdu.ABORT:
        _, source, reason = pdu.decode_reason(body)
        return Answer("aborted", source=source, reason=reason,
                      detail="aborted the association request")
    try:
        ac = pdu.decode_associate(kind, body)
    except pdu.ProtocolError as exc:
        return Answer("not-dicom", detail=f"sent a malformed A-ASSOCIATE-AC ({exc.what})")
    user = ac.user
    return Answer("accepted", user.implementation_class_uid, user.implementation_version_name,
                  user.max_pdu, any(cx.result == 0 for cx in ac.contexts))
