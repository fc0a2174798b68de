"""Upper Layer PDUs and items (PS3.8 9.3): encoders, strict decoders and the bounded PDU read;
and the DIMSE command sets (group 0000, PS3.7 E.1) the PDUs carry.

Every length read from the wire is checked against what contains it before it is used, so a
hostile peer gets ``ProtocolError`` (the caller answers with A-ABORT) instead of an
IndexError, a giant allocation or a half-parsed association.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import field

from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.records import record

ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ = 0x01, 0x02, 0x03
P_DATA_TF, RELEASE_RQ, RELEASE_RP, ABORT = 0x04, 0x05, 0x06, 0x07
PDU_TYPES = (ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ, P_DATA_TF, RELEASE_RQ, RELEASE_RP, ABORT)
HEADER = 6
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"

DEFAULT_MAX_PDU = 1 << 20  # what the console advertises unless told otherwise
MAX_MAX_PDU = 16 << 20  # the largest it will ever advertise (and so ever read in one PDU)
MIN_MAX_PDU = 4096
# A-ASSOCIATE-RQ/AC are not bound by the maximum PDU length; 128 contexts of 20 syntaxes each
# stay under 200 KB, so this bound refuses nothing real.
ASSOCIATION_LIMIT = 1 << 20
# Item types (PS3.8 9.3.2 and annex D).
APPLICATION_ITEM, CONTEXT_RQ_ITEM, CONTEXT_AC_ITEM = 0x10, 0x20, 0x21
ABSTRACT_ITEM, TRANSFER_ITEM, USER_ITEM = 0x30, 0x40, 0x50
MAX_LENGTH_ITEM, IMPLEMENTATION_UID_ITEM, ASYNC_ITEM, VERSION_NAME_ITEM = 0x51, 0x52, 0x53, 0x55

RESULTS = {0: "Accepted", 1: "User Rejected", 2: "Provider Rejected",
           3: "Abstract Syntax Not Supported", 4: "Transfer Syntax(es) Not Supported"}


class ProtocolError(ConsoleError):
    """A peer sent something that is not a well-formed PDU; the association must be aborted."""

    def __init__(self, what: str) -> None:
        super().__init__(Diagnosis(
            "protocol-error", f"The peer broke the DICOM protocol: {what}",
            ("the peer is not a DICOM node, or its implementation is faulty or hostile",),
            ("check what listens on that port", "capture the traffic and show the vendor"),
            {"problem": what}))
        self.what = what


def effective_max_pdu(value: int | None) -> int:
    """The maximum PDU length to advertise: 0/None means the default; never unlimited."""
    if not value:
        return DEFAULT_MAX_PDU
    return max(MIN_MAX_PDU, min(int(value), MAX_MAX_PDU))


def max_pdu_problem(value: int) -> str | None:
    """Why ``value`` cannot be a maximum PDU length (0 means the default), or None."""
    if value == 0 or MIN_MAX_PDU <= value <= MAX_MAX_PDU:
        return None
    return f"maximum PDU {value} is outside {MIN_MAX_PDU}-{MAX_MAX_PDU} (0 = the default)"


# -- structures -------------------------------------------------------------------------------
@record
class Context:
    """A presentation context as proposed (RQ: syntaxes) or answered (AC: result, one syntax)."""

    id: int
    abstract_syntax: str = ""
    transfer_syntaxes: list[str] = field(default_factory=list)
    result: int = 0


@record
class UserInfo:
    """The User Information item: maximum PDU length, implementation UID and version name,
    asynchronous operations window."""

    max_pdu: int = 0
    implementation_class_uid: str = ""
    implementation_version_name: str = ""
    async_window: tuple[int, int] = (1, 1)


@record
class Associate:
    """A decoded A-ASSOCIATE-RQ or -AC."""

    kind: int
    called_ae: str
    calling_ae: str
    called_raw: bytes
    calling_raw: bytes
    application_context: str
    contexts: list[Context]
    user: UserInfo


# -- encoding ---------------------------------------------------------------------------------
def item(kind: int, value: bytes) -> bytes:
    if len(value) > 0xFFFF:
        raise ValueError(f"item 0x{kind:02X} of {len(value)} bytes does not fit its length field")
    return struct.pack(">BBH", kind, 0, len(value)) + value


def pdu(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body)) + body


def _ae(title: str) -> bytes:
    return title.encode("ascii", "replace")[:16].ljust(16, b" ")


def _user(user: UserInfo) -> bytes:
    sub = (item(MAX_LENGTH_ITEM, struct.pack(">I", user.max_pdu))
           + item(IMPLEMENTATION_UID_ITEM, user.implementation_class_uid.encode("ascii")))
    if user.async_window != (1, 1):
        sub += item(ASYNC_ITEM, struct.pack(">HH", *user.async_window))
    if user.implementation_version_name:
        sub += item(VERSION_NAME_ITEM, user.implementation_version_name.encode("ascii", "replace")[:16])
    return item(USER_ITEM, sub)


def associate_rq(called: str, calling: str, contexts: list[tuple[str, list[str]]],
                 user: UserInfo) -> bytes:
    """A-ASSOCIATE-RQ; context IDs 1, 3, 5... in the order given."""
    if not 1 <= len(contexts) <= 128:
        raise ValueError(f"{len(contexts)} presentation contexts; DICOM allows 1-128")
    items = [item(APPLICATION_ITEM, APPLICATION_CONTEXT.encode())]
    for n, (abstract, syntaxes) in enumerate(contexts):
        sub = item(ABSTRACT_ITEM, abstract.encode("ascii")) + b"".join(
            item(TRANSFER_ITEM, ts.encode("ascii")) for ts in syntaxes)
        items.append(item(CONTEXT_RQ_ITEM, struct.pack(">BBBB", 2 * n + 1, 0, 0, 0) + sub))
    items.append(_user(user))
    body = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + bytes(32) + b"".join(items)
    return pdu(ASSOCIATE_RQ, body)


def associate_ac(called_raw: bytes, calling_raw: bytes, answers: list[Context],
                 user: UserInfo) -> bytes:
    """A-ASSOCIATE-AC echoing the request's AE fields; one answer per proposed context."""
    items = [item(APPLICATION_ITEM, APPLICATION_CONTEXT.encode())]
    for cx in answers:
        ts = cx.transfer_syntaxes[0] if cx.transfer_syntaxes else ""
        items.append(item(CONTEXT_AC_ITEM, struct.pack(">BBBB", cx.id, 0, cx.result, 0)
                          + item(TRANSFER_ITEM, ts.encode("ascii"))))
    items.append(_user(user))
    body = struct.pack(">HH", 1, 0) + called_raw + calling_raw + bytes(32) + b"".join(items)
    return pdu(ASSOCIATE_AC, body)


def associate_rj(result: int, source: int, reason: int) -> bytes:
    return pdu(ASSOCIATE_RJ, bytes([0, result, source, reason]))


def release_rq() -> bytes:
    return pdu(RELEASE_RQ, bytes(4))


def release_rp() -> bytes:
    return pdu(RELEASE_RP, bytes(4))


def abort(source: int = 0, reason: int = 0) -> bytes:
    return pdu(ABORT, bytes([0, 0, source, reason]))


def pdv_header(context_id: int, length: int, flags: int) -> bytes:
    """The P-DATA-TF header and the one PDV header that follows it, for ``length`` data bytes."""
    return struct.pack(">BBIIBB", P_DATA_TF, 0, length + 6, length + 2, context_id, flags)


# -- decoding ---------------------------------------------------------------------------------
def limit_for(kind: int, max_pdu: int) -> int:
    """The largest body a PDU of ``kind`` may have when we advertised ``max_pdu``."""
    if kind == P_DATA_TF:
        return effective_max_pdu(max_pdu)
    if kind in (ASSOCIATE_RQ, ASSOCIATE_AC):
        return ASSOCIATION_LIMIT
    return 4


def check_header(header: bytes, max_pdu: int) -> tuple[int, int]:
    """(type, body length) from a 6-byte header; ProtocolError before anything is allocated."""
    if len(header) != HEADER:
        raise ProtocolError("a PDU header shorter than 6 bytes")
    kind, length = header[0], struct.unpack_from(">I", header, 2)[0]
    if kind not in PDU_TYPES:
        raise ProtocolError(f"unknown PDU type 0x{kind:02X}")
    limit = limit_for(kind, max_pdu)
    if length > limit or (limit == 4 and length != 4):
        raise ProtocolError(f"a PDU of type 0x{kind:02X} announced {length} bytes; "
                            f"at most {limit} are allowed")
    return kind, length


def read(recv_exact: Callable[[int], bytes], max_pdu: int) -> tuple[int, bytes]:
    """One PDU through ``recv_exact(n)``: the header is checked before the body is read."""
    kind, length = check_header(recv_exact(HEADER), max_pdu)
    return kind, recv_exact(length) if length else b""


def _items(data: bytes, start: int, where: str):
    """(type, value) of each item in ``data[start:]``; an item that overruns raises."""
    pos, end = start, len(data)
    while pos < end:
        if pos + 4 > end:
            raise ProtocolError(f"{end - pos} stray bytes at the end of {where}")
        kind, length = data[pos], struct.unpack_from(">H", data, pos + 2)[0]
        if pos + 4 + length > end:
            raise ProtocolError(f"item 0x{kind:02X} in {where} claims {length} bytes; "
                                f"only {end - pos - 4} remain")
        yield kind, data[pos + 4:pos + 4 + length]
        pos += 4 + length


def _uid(raw: bytes, what: str) -> str:
    text = raw.rstrip(b"\x00 ")
    if len(text) > 64 or text.translate(None, b"0123456789."):  # digits and dots only
        raise ProtocolError(f"{what} is not a UID")
    return text.decode("ascii")


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "replace").strip("\x00 ")


def _context(kind: int, value: bytes) -> Context:
    if len(value) < 4:
        raise ProtocolError(f"a presentation context item of {len(value)} bytes (at least 4 needed)")
    cx = Context(value[0], result=value[2])
    if not cx.id % 2:
        raise ProtocolError(f"presentation context ID {cx.id} is even")
    for sub_kind, sub in _items(value, 4, "a presentation context"):
        if sub_kind == ABSTRACT_ITEM and kind == CONTEXT_RQ_ITEM:
            cx.abstract_syntax = _uid(sub, "an abstract syntax")
        elif sub_kind == TRANSFER_ITEM:
            if kind == CONTEXT_AC_ITEM and cx.result != 0:
                continue  # "not significant" when the context was refused (PS3.8 9.3.3.2)
            cx.transfer_syntaxes.append(_uid(sub, "a transfer syntax"))
    if kind == CONTEXT_RQ_ITEM and (not cx.abstract_syntax or not cx.transfer_syntaxes):
        raise ProtocolError(f"presentation context {cx.id} lacks an abstract or transfer syntax")
    if kind == CONTEXT_AC_ITEM and cx.result == 0 and len(cx.transfer_syntaxes) != 1:
        raise ProtocolError(f"accepted presentation context {cx.id} names "
                            f"{len(cx.transfer_syntaxes)} transfer syntaxes, not one")
    return cx


def _user_info(value: bytes) -> UserInfo:
    user = UserInfo()
    for kind, sub in _items(value, 0, "the user information"):
        if kind == MAX_LENGTH_ITEM:
            if len(sub) != 4:
                raise ProtocolError("a maximum length item that is not 4 bytes")
            user.max_pdu = struct.unpack(">I", sub)[0]
        elif kind == IMPLEMENTATION_UID_ITEM:
            user.implementation_class_uid = _uid(sub, "the implementation class UID")
        elif kind == VERSION_NAME_ITEM:
            user.implementation_version_name = _text(sub[:16])
        elif kind == ASYNC_ITEM and len(sub) == 4:
            user.async_window = struct.unpack(">HH", sub)
    return user


def decode_associate(kind: int, body: bytes) -> Associate:
    """A-ASSOCIATE-RQ (``kind`` 1) or -AC (2); ProtocolError on any malformed structure."""
    if len(body) < 68:
        raise ProtocolError(f"an A-ASSOCIATE PDU of {len(body)} bytes (at least 68 needed)")
    if not struct.unpack_from(">H", body)[0] & 1:
        raise ProtocolError("protocol version 1 is not offered")
    context_kind = CONTEXT_RQ_ITEM if kind == ASSOCIATE_RQ else CONTEXT_AC_ITEM
    application, contexts, user, seen = "", [], None, set()
    for item_kind, value in _items(body, 68, "the A-ASSOCIATE PDU"):
        if item_kind == APPLICATION_ITEM:
            application = _uid(value, "the application context")
        elif item_kind == context_kind:
            cx = _context(item_kind, value)
            if cx.id in seen:
                raise ProtocolError(f"presentation context {cx.id} appears twice")
            seen.add(cx.id)
            contexts.append(cx)
        elif item_kind == USER_ITEM:
            user = _user_info(value)
    if not application:
        raise ProtocolError("no application context item")
    if user is None:
        raise ProtocolError("no user information item")
    if len(contexts) > 128:
        raise ProtocolError(f"{len(contexts)} presentation contexts; DICOM allows 128")
    return Associate(kind, _text(body[4:20]), _text(body[20:36]), bytes(body[4:20]),
                     bytes(body[20:36]), application, contexts, user)


def decode_reason(body: bytes) -> tuple[int, int, int]:
    """(result, source, reason) of an A-ASSOCIATE-RJ, or (0, source, reason) of an A-ABORT."""
    if len(body) != 4:
        raise ProtocolError(f"a 4-byte PDU of {len(body)} bytes")
    return body[1], body[2], body[3]


def pdvs(body, start: int = 0):
    """(context ID, flags, data view) of each PDV in a P-DATA-TF body; overruns raise."""
    view, pos, end = memoryview(body), start, len(body)
    if end == 0:
        raise ProtocolError("a P-DATA-TF PDU without any PDV")
    while pos < end:
        if pos + 6 > end:
            raise ProtocolError("a PDV header cut short")
        length = struct.unpack_from(">I", body, pos)[0]
        if length < 2 or pos + 4 + length > end:
            raise ProtocolError(f"a PDV claims {length} bytes; {end - pos - 4} remain")
        yield body[pos + 4], body[pos + 5], view[pos + 6:pos + 4 + length]
        pos += 4 + length


# Command set elements (PS3.7 E.1) and their VRs, for encoding and decoding group 0000.
_US = {0x0100, 0x0110, 0x0120, 0x0700, 0x0800, 0x0900, 0x1020, 0x1021, 0x1022, 0x1023,
       0x1031}
_UI = {0x0002, 0x0003, 0x1000, 0x1001}


# -- DIMSE command sets (implicit VR little endian, group 0000) ------------------------------------
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
