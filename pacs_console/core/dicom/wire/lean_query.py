"""C-FIND over the lean Upper Layer: matches decoded straight from the wire into flat rows.

A 200-match study query spent most of its time in pynetdicom's thread handoffs and in pydicom
building datasets only to flatten them again; here one loop reads each response and turns its
identifier bytes into the same keyword -> text row that ``identifiers.flatten`` gives. The
query goes out encoded here too, from ``identifiers.identifier_tree``: a query whose keys are
all plain text needs neither pydicom nor pynetdicom, which then never load.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Generator

from pacs_console.core.dicom.charsets import (
    CHARSETS,
    codec_note,
    decode_undeclared,
    fallback_codecs,
)
from pacs_console.core.dicom.diagnosis.dimse_status import PENDING, PENDING_WARNING
from pacs_console.core.dicom.identifiers import SKIP, TEXT_VRS
from pacs_console.core.dicom.keywords import keyword_and_vr
from pacs_console.core.dicom.wire import pdu, ul

_UNDEFINED = 0xFFFFFFFF
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UT", b"UN", b"UC", b"UR", b"SV",
             b"UV"}
_NUMBERS = {"US": "H", "UL": "I", "SS": "h", "SL": "i", "FL": "f", "FD": "d"}
C_FIND_RQ, C_CANCEL_RQ = 0x0020, 0x0FFF
EXPLICIT_VR_LE, IMPLICIT_VR_LE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
_TEXT = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
         "UI", "UR", "UT"}


DECLARED = "SpecificCharacterSet"  # a row's key for the term its answer declared


class _Slow(Exception):
    """Something this decoder does not do (ISO 2022 text, ambiguous VRs): use pydicom."""


_entry = keyword_and_vr


def encode_identifier(tree: dict, implicit: bool) -> bytes | None:
    """An ``identifiers.identifier_tree`` as little-endian dataset bytes; None when a value
    is not plain text in a character set this knows (pydicom encodes those)."""
    term = tree.get(0x00080005, ("CS", ""))[1]
    encoding = CHARSETS.get(str(term or "").strip()) if term else "ascii"
    if encoding is None:
        return None
    try:
        return _encode(tree, implicit, encoding)
    except (_Slow, UnicodeEncodeError, struct.error):
        return None


def _encode(tree: dict, implicit: bool, encoding: str) -> bytes:
    out = bytearray()
    for tag in sorted(tree):
        vr, value = tree[tag]
        if vr == "SQ":
            body = b"" if value is None else _item(_encode(value, implicit, encoding))
        elif value == "":
            body = b""
        elif vr in _TEXT and isinstance(value, str):
            body = value.encode("ascii" if vr in ("UI", "CS", "AE", "DA", "TM", "DT", "IS", "DS",
                                                  "AS") else encoding)
            if len(body) % 2:
                body += b"\x00" if vr == "UI" else b" "
        else:
            raise _Slow  # a number or bytes in a binary VR: pydicom's rules
        out += struct.pack("<HH", tag >> 16, tag & 0xFFFF)
        if implicit:
            out += struct.pack("<I", len(body))
        elif vr.encode() in _LONG_VRS:
            out += struct.pack("<2sHI", vr.encode(), 0, len(body))
        else:
            out += struct.pack("<2sH", vr.encode(), len(body))
        out += body
    return bytes(out)


def _item(body: bytes) -> bytes:
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(body)) + body


def flat_row(raw: bytes, implicit: bool, undeclared: tuple | None = None) -> dict[str, str] | None:
    """``query.flatten(decode(raw), undeclared)`` without the datasets; None when pydicom
    must do it. ``undeclared``: (codecs, used set) for text when no character set is given."""
    parsed = _flat(raw, implicit, undeclared)
    return None if parsed is None else parsed[0]


def _flat(raw: bytes, implicit: bool, undeclared: tuple | None) -> tuple[dict, str | None] | None:
    """(the flat row, the Specific Character Set the answer declared or None); None when
    pydicom must do it."""
    out: dict[str, str] = {}
    state = {"encoding": "", "charsets": CHARSETS, "skip": SKIP, "text": TEXT_VRS,
             "undeclared": undeclared or (("utf-8", "latin-1"), set())}
    try:
        data = raw if type(raw) is bytes else bytes(raw)  # slices of bytes: one copy each
        _parse(data, 0, len(data), implicit, out, state, in_undefined_item=False)
    except (_Slow, struct.error, UnicodeDecodeError, IndexError):
        return None
    return out, state.get("declared")  # items' copies of the state never set the top level's


_TAG = struct.Struct("<HH")
_EXPLICIT = struct.Struct("<HH2sH")  # tag, VR, short length (read before the tag is checked)
_LENGTH = struct.Struct("<I")


def _parse(buf, pos: int, end: int, implicit: bool, out: dict, state: dict, *,
           in_undefined_item: bool) -> int:
    # ~17 elements a match, 200 matches a study query: struct and state lookups held locally,
    # and text (nearly every value) decoded here rather than through _value (~1 ms a query).
    tag_at, explicit_at, length_at = _TAG.unpack_from, _EXPLICIT.unpack_from, _LENGTH.unpack_from
    skip, charsets, text_vrs = state["skip"], state["charsets"], state["text"]
    encoding, undeclared = state["encoding"], state["undeclared"]
    while pos < end:
        if implicit:
            group, element = tag_at(buf, pos)
        else:
            group, element, code, length = explicit_at(buf, pos)
        tag = group << 16 | element
        if group == 0xFFFE:
            if element == 0xE00D and in_undefined_item:
                return pos + 8
            raise _Slow
        keyword, dict_vr = _entry(tag)
        if implicit:
            vr, length = dict_vr, length_at(buf, pos + 4)[0]
            pos += 8
        else:
            vr = code.decode("ascii")
            if code in _LONG_VRS:
                length = length_at(buf, pos + 8)[0]
                pos += 12
            else:
                pos += 8
        if vr == "SQ":
            pos = _sequence(buf, pos, length, implicit, out, state)
            continue
        if length == _UNDEFINED:
            raise _Slow
        value = buf[pos:pos + length]  # buf is bytes (_flat): the slice is its own copy
        pos += length
        if tag == 0x00080005:
            text = value.decode("ascii", "replace").strip(" \x00")
            state.setdefault("declared", text)
            encoding = charsets.get(text)
            if encoding is None:
                raise _Slow
            state["encoding"] = encoding
            continue
        if keyword in skip or group == 0x0002:
            continue
        if vr not in text_vrs:
            out[keyword] = _value(value, vr)
        elif encoding in ("", "ascii"):  # no character set declared, or only ASCII
            out[keyword] = decode_undeclared(value, *undeclared)
        else:
            out[keyword] = value.decode(encoding, "replace").rstrip(" \x00")
    if in_undefined_item:
        raise _Slow
    return pos


def _value(value: bytes, vr: str | None) -> str:
    """A value that is not text (``_parse`` decodes text itself)."""
    fmt = _NUMBERS.get(vr or "")
    if fmt is not None:
        size = struct.calcsize(fmt)
        return "\\".join(str(v) for v in struct.unpack(f"<{len(value) // size}{fmt}", value))
    if vr is None or vr in ("OB", "OW", "UN", "OF", "OD", "OL", "OV"):
        return value.hex()
    raise _Slow  # AT, ambiguous "US or SS" entries and the like


def _sequence(buf, pos: int, length: int, implicit: bool, out: dict, state: dict) -> int:
    end = len(buf) if length == _UNDEFINED else pos + length
    first = True
    while pos < end:
        group, element, item_length = struct.unpack_from("<HHI", buf, pos)
        pos += 8
        if (group, element) == (0xFFFE, 0xE0DD):
            return pos
        if (group, element) != (0xFFFE, 0xE000):
            raise _Slow
        item: dict[str, str] = {}
        if item_length == _UNDEFINED:
            pos = _parse(buf, pos, len(buf), implicit, item, dict(state), in_undefined_item=True)
        else:
            _parse(buf, pos, pos + item_length, implicit, item, dict(state), in_undefined_item=False)
            pos += item_length
        if first:
            for key, text in item.items():
                out.setdefault(key, text)
            first = False
    if length == _UNDEFINED:
        raise _Slow
    return pos


def decode_row(data: bytes, implicit: bool, undeclared: tuple | None = None) -> dict[str, str]:
    """A response identifier as a flat row: straight from the bytes, else through pydicom;
    with the Specific Character Set it declared as "SpecificCharacterSet" (``take`` counts it
    and drops it unless the query keeps it)."""
    parsed = _flat(data, implicit, undeclared)
    if parsed is not None:
        row, term = parsed
        if term is not None:
            row[DECLARED] = term
        return row
    from io import BytesIO

    from pynetdicom.dsutils import decode

    from pacs_console.core.dicom.charsets import declared_term
    from pacs_console.core.dicom.identifiers import flatten

    ds = decode(BytesIO(data), implicit, True)
    return {**flatten(ds, undeclared), **declared_term(ds)}


def identifier_bytes(tree: dict, implicit: bool) -> bytes:
    """An ``identifiers.identifier_tree`` as the request's dataset (pydicom for what
    ``encode_identifier`` leaves to it)."""
    data = encode_identifier(tree, implicit)
    if data is None:
        from pynetdicom.dsutils import encode

        from pacs_console.core.dicom.identifiers import to_dataset

        data = encode(to_dataset(tree), implicit, True)
    return data


def find_lean(target, sop_class: str, identifier: dict, result, limit: int | None,
              sent=None) -> Generator[dict[str, str], None, bool]:
    """Run the query (an ``identifier_tree``) on a lean association; False (before any
    match) means use pynetdicom. ``sent()``, when given, runs once the request is out, before
    the first answer is read: work the caller needs later fills the node's time to answer."""
    from pacs_console.core.dicom.diagnosis.diagnose import lost_query as _lost

    undeclared = (fallback_codecs(identifier), set())

    timing: dict = {}
    try:
        assoc = ul.open_lean(target, [(sop_class, [EXPLICIT_VR_LE, IMPLICIT_VR_LE])], timing)
    except ul.Fallback:
        return False
    finished = False
    try:
        cx = assoc.context_for(sop_class)
        implicit = cx.transfer_syntax == IMPLICIT_VR_LE
        command = pdu.encode_command({0x0002: sop_class, 0x0100: C_FIND_RQ, 0x0110: 1,
                                     0x0700: 0, 0x0800: 0})
        assoc.send(cx.context_id, command, identifier_bytes(identifier, implicit))
        # The report (and the fingerprint module it loads) while the node works on the query.
        result.association = assoc.report(timing)
        if sent is not None:
            sent()
        last = time.perf_counter()
        while True:
            try:
                _, fields, data = assoc.receive(target.timeouts.dimse)
            except ul.Lost as lost:
                if lost.protocol:  # a malformed PDU: aborted; asking again would not help
                    result.diagnosis = pdu.ProtocolError(str(lost)).diagnosis
                    finished = True
                    return True
                if result.count == 0:
                    finished = True
                    assoc.abort()
                    return False  # pynetdicom's path redoes it and says precisely why
                result.diagnosis = _lost(lost.aborted or not lost.timed_out, target,
                                         result.count, time.perf_counter() - last)
                finished = True
                assoc.abort()
                return True
            last = time.perf_counter()
            state = yield from take(result, int(fields.get(0x0900, 0xC000)), limit, undeclared,
                                    lambda data=data: decode_row(data, implicit, undeclared)
                                    if data else {})
            if state != "more":
                finished = state == "final"
                break
    finally:
        if not finished and not assoc.released:
            result.cancelled = True
            final = cancel(assoc, cx.context_id)
            if final is not None:
                result.status = final
        assoc.release()
    return True


def take(result, code: int, limit: int | None, undeclared: tuple, row_of
         ) -> Generator[dict[str, str], None, str]:
    """One C-FIND response into ``result`` (either wire path): a pending one yields its match
    and returns "more", or "truncated" at ``limit``; the final one returns "final"."""
    if code not in (PENDING, PENDING_WARNING):
        result.final(code)
        return "final"
    truncated = result.matched(limit)
    row = row_of()
    term = row.get(DECLARED, "") if result.keep_declared else row.pop(DECLARED, "")
    result.charsets_declared[term] = result.charsets_declared.get(term, 0) + 1
    result.charset_assumed = codec_note(undeclared[1], undeclared[0])
    yield row
    return "truncated" if truncated else "more"


def cancel(assoc, context_id: int, grace: float = 2.0) -> int | None:
    """C-CANCEL message 1, then read the remaining responses for a while; the final status,
    or None when the peer would not stop (aborted)."""
    deadline = time.monotonic() + grace
    try:
        assoc.send(context_id, pdu.encode_command({0x0100: C_CANCEL_RQ, 0x0120: 1,
                                                  0x0800: ul.NO_DATASET}))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                assoc.abort()
                return None
            _, fields, _ = assoc.receive(remaining)
            code = int(fields.get(0x0900, 0xC000))
            if code not in (PENDING, PENDING_WARNING):
                return code
    except ul.Lost:
        assoc.abort()
    return None
