"""Byte-level shortcuts for the receive path: file meta without pydicom, UIDs without a full parse.

A C-MOVE of a 512² CT study spends most of its Python time in pydicom building datasets it
never needed; the Storage SCP only has to file the bytes it was sent under two UIDs.
"""

from __future__ import annotations

import struct

_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UT", b"UN", b"UC", b"UR", b"SV",
             b"UV"}
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
STUDY_UID, SERIES_UID = 0x0020000D, 0x0020000E
SOP_CLASS_UID, SOP_INSTANCE_UID = 0x00080016, 0x00080018
IDENTITY = (SOP_CLASS_UID, SOP_INSTANCE_UID, STUDY_UID, SERIES_UID)


class ScanError(ValueError):
    """The bytes are not laid out as expected; the caller falls back to pydicom."""


def _element(value: bytes, group: int, element: int, vr: bytes) -> bytes:
    if len(value) % 2:
        value += b"\x00" if vr in (b"UI", b"OB") else b" "
    if vr in _LONG_VRS:
        return struct.pack("<HH2sHI", group, element, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def file_meta(sop_class: str, sop_instance: str, transfer_syntax: str, implementation_uid: str,
              implementation_version: str, source_ae: str) -> bytes:
    """Group 0002 in Explicit VR Little Endian, group length first (PS3.10 7.1)."""
    body = b"".join((
        _element(b"\x00\x01", 0x0002, 0x0001, b"OB"),
        _element(sop_class.encode("ascii"), 0x0002, 0x0002, b"UI"),
        _element(sop_instance.encode("ascii"), 0x0002, 0x0003, b"UI"),
        _element(transfer_syntax.encode("ascii"), 0x0002, 0x0010, b"UI"),
        _element(implementation_uid.encode("ascii"), 0x0002, 0x0012, b"UI"),
        _element(implementation_version.encode("ascii"), 0x0002, 0x0013, b"SH") if implementation_version else b"",
        _element(source_ae.strip().encode("ascii"), 0x0002, 0x0016, b"AE") if source_ae.strip() else b"",
    ))
    return _element(struct.pack("<I", len(body)), 0x0002, 0x0000, b"UL") + body


def find_uids(buf, implicit: bool, wanted: tuple[int, ...] = (STUDY_UID, SERIES_UID)) -> dict[int, str]:
    """Top-level UI values of ``wanted`` tags from a little-endian dataset, stopping after them."""
    found: dict[int, str] = {}
    last = max(wanted)
    pos, end = 0, len(buf)
    try:
        while pos + 8 <= end:
            group, elem = struct.unpack_from("<HH", buf, pos)
            tag = group << 16 | elem
            if tag > last:
                break
            pos, length = _header(buf, pos, implicit)
            if tag in wanted:
                found[tag] = bytes(buf[pos:pos + length]).rstrip(b"\x00 ").decode("ascii")
                if len(found) == len(wanted):
                    break
            pos = _skip_undefined(buf, pos, implicit) if length == _UNDEFINED else pos + length
    except (struct.error, UnicodeDecodeError) as exc:
        raise ScanError(str(exc)) from exc
    return found


def walk(buf, implicit: bool, wanted: tuple[int, ...] = IDENTITY) -> dict[int, str]:
    """Like ``find_uids``, but every top-level element is stepped over to the very end, so a
    truncated or padded dataset raises ScanError (values are skipped, never copied)."""
    try:
        return {tag: bytes(value).rstrip(b"\x00 ").decode("ascii")
                for tag, value in values(buf, implicit, wanted).items()}
    except UnicodeDecodeError as exc:
        raise ScanError(str(exc)) from exc


def values(buf, implicit: bool, wanted) -> dict[int, memoryview]:
    """The raw top-level values of ``wanted`` tags (views into ``buf``, never copied), every
    element stepped over to the very end: a truncated dataset raises ScanError. A wanted
    element of undefined length (a sequence, encapsulated pixel data) is not returned."""
    found: dict[int, memoryview] = {}
    view, pos, end = memoryview(buf), 0, len(buf)
    unpack, long_vrs = struct.unpack_from, _LONG_VRS  # (the loop runs for every element)
    try:
        while pos < end:
            if pos + 8 > end:
                raise ScanError(f"{end - pos} stray bytes at the end")
            if implicit:
                group, elem, length = unpack("<HHI", buf, pos)
                pos += 8
            else:
                group, elem, vr, length = unpack("<HH2sH", buf, pos)
                if vr in long_vrs:
                    length = unpack("<I", buf, pos + 8)[0]
                    pos += 12
                elif vr.isalpha():
                    pos += 8
                else:
                    raise ScanError(f"no VR at offset {pos}")
            if length == _UNDEFINED:
                pos = _skip_undefined(buf, pos, implicit)
                continue
            if pos + length > end:
                raise ScanError(f"element ({group:04X},{elem:04X}) runs {pos + length - end} "
                                "bytes past the end: the dataset is truncated")
            if group << 16 | elem in wanted:
                found[group << 16 | elem] = view[pos:pos + length]
            pos += length
    except struct.error as exc:
        raise ScanError(str(exc)) from exc
    return found


def _header(buf, pos: int, implicit: bool) -> tuple[int, int]:
    if implicit:
        return pos + 8, struct.unpack_from("<I", buf, pos + 4)[0]
    vr = bytes(buf[pos + 4:pos + 6])
    if vr in _LONG_VRS:
        return pos + 12, struct.unpack_from("<I", buf, pos + 8)[0]
    if not vr.isalpha():
        raise ScanError(f"no VR at offset {pos}")
    return pos + 8, struct.unpack_from("<H", buf, pos + 6)[0]


def _skip_undefined(buf, pos: int, implicit: bool) -> int:
    """Skip a sequence (or encapsulated pixel data) of undefined length, nested items included."""
    end = len(buf)
    while pos + 8 <= end:
        group, elem = struct.unpack_from("<HH", buf, pos)
        tag = group << 16 | elem
        length = struct.unpack_from("<I", buf, pos + 4)[0]
        pos += 8
        if tag == _SEQ_END:
            return pos
        if tag != _ITEM:
            raise ScanError(f"expected an item at offset {pos - 8}")
        pos = _skip_item(buf, pos, implicit) if length == _UNDEFINED else pos + length
    raise ScanError("sequence runs past the end of the data")


def _skip_item(buf, pos: int, implicit: bool) -> int:
    end = len(buf)
    while pos + 8 <= end:
        group, elem = struct.unpack_from("<HH", buf, pos)
        if (group << 16 | elem) == _ITEM_END:
            return pos + 8
        pos, length = _header(buf, pos, implicit)
        pos = _skip_undefined(buf, pos, implicit) if length == _UNDEFINED else pos + length
    raise ScanError("item runs past the end of the data")


def dataset_offset(fp) -> int:
    """Where a Part 10 file's dataset starts (after preamble, DICM and group 0002)."""
    return dataset_start(fp.read(META_WINDOW))


META_WINDOW = 132 + (64 << 10)  # preamble, DICM and a file meta group of up to 64 KB


def dataset_start(head) -> int:
    """Where the dataset starts in ``head``, the first bytes of a Part 10 file (at most
    ``META_WINDOW`` are needed); ScanError when there is no DICM prefix, the group is not
    explicit VR or it runs past ``head`` (where ``head`` is shorter than the file)."""
    if len(head) < 132 or head[128:132] != b"DICM":
        raise ScanError("no DICM prefix")
    pos, end = 132, len(head)
    while pos + 8 <= end and head[pos] == 0x02 and head[pos + 1] == 0x00:
        vr = bytes(head[pos + 4:pos + 6])
        if vr in _LONG_VRS:
            if pos + 12 > end:
                raise ScanError("file meta ends early")
            pos += 12 + struct.unpack_from("<I", head, pos + 8)[0]
        elif vr.isalpha():
            pos += 8 + struct.unpack_from("<H", head, pos + 6)[0]
        else:
            raise ScanError("file meta is not explicit VR")
    if pos > end or (end - pos < 8 and end >= META_WINDOW):
        raise ScanError("file meta ends early")
    return pos


PIXEL_DATA = 0x7FE00010


def complete_prefix(buf, implicit: bool, stop: int = PIXEL_DATA) -> int:
    """How many leading bytes of a little-endian dataset hold whole top-level elements before
    tag ``stop`` (pixel data by default): the part of a cut-off prefix a parser can read."""
    pos, end, good = 0, len(buf), 0
    try:
        while pos + 8 <= end:
            group, elem = struct.unpack_from("<HH", buf, pos)
            if (group << 16 | elem) >= stop:
                break
            pos, length = _header(buf, pos, implicit)
            pos = _skip_undefined(buf, pos, implicit) if length == _UNDEFINED else pos + length
            if pos > end:
                break
            good = pos
    except (struct.error, ScanError):
        pass
    return good


META_LIMIT = 64 << 10  # a file meta group is a few hundred bytes


def read_meta(fp) -> dict[int, str]:
    """Group 0002's UI values of a Part 10 file (tag -> text), read without pydicom; raises
    ScanError for anything unusual (no DICM, an implicit or oversized group), where pydicom
    reads it instead."""
    head = fp.read(132)
    if len(head) < 132 or head[128:132] != b"DICM":
        raise ScanError("no DICM prefix")
    found: dict[int, str] = {}
    while True:
        header = fp.read(8)
        if len(header) < 8 or struct.unpack_from("<H", header)[0] != 0x0002:
            return found
        element, vr = struct.unpack_from("<H", header, 2)[0], header[4:6]
        if vr in _LONG_VRS:
            extra = fp.read(4)
            if len(extra) < 4:
                raise ScanError("file meta ends early")
            length = struct.unpack_from("<I", extra)[0]
        elif vr.isalpha():
            length = struct.unpack_from("<H", header, 6)[0]
        else:
            raise ScanError("file meta is not explicit VR")
        if length > META_LIMIT:
            raise ScanError("file meta element too long")
        value = fp.read(length)
        if len(value) < length:
            raise ScanError("file meta ends early")
        if vr == b"UI":
            try:
                found[0x00020000 | element] = value.rstrip(b"\x00 ").decode("ascii")
            except UnicodeDecodeError as exc:
                raise ScanError(str(exc)) from exc
