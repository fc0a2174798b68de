"""Read the packets of a pcap or pcapng capture fast, and the TCP segment in each frame.

Why not a library: dpkt (the reader used first; BSD) took about a minute for a 1 GB capture of
Ethernet-sized segments, with objects per packet and per header; scapy is GPL and pyshark
needs tshark, which a field laptop may not have. This reader walks the blocks with
``struct.unpack_from`` over big buffered reads and hands each frame on as a memoryview slice
(one bytes object per frame, no object per header). Every door is hostile: a block or record length is checked
against a limit and against what the file still holds before anything is kept, and a damaged
or cut-short file raises ``CaptureError`` after the packets before the damage.

Link types read: Ethernet (with 802.1Q/QinQ tags), BSD loopback/null, Linux cooked SLL and
SLL2, raw IP; IPv4 (unfragmented) and IPv6 (with its usual extension headers) carrying TCP.
Frames of other link types are counted, not read.
"""

from __future__ import annotations

import struct

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
_BYTE_ORDERS = (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d")  # pcapng little-, big-endian
READ = 4 << 20  # bytes read from the file at a time
RECORD_LIMIT = 1 << 18  # a pcap record (libpcap's largest snapshot length)
BLOCK_LIMIT = 16 << 20  # a pcapng block (Wireshark's limit)
ETHERNET, NULL, LOOP, SLL, SLL2 = 1, 0, 108, 113, 276
RAW = {12, 14, 101, 228, 229}
LINK_TYPES = {ETHERNET, NULL, LOOP, SLL, SLL2, *RAW}
_V6_OPTIONS = {0, 43, 60}  # hop-by-hop, routing, destination options: skipped to reach TCP


class CaptureError(ValueError):
    """Not a capture this reader understands, or damaged before anything could be read."""


class _Buffer:
    """Big reads from the file into ``data`` (bytes) from ``pos``; the block loops index it
    directly and call ``fill(n)`` only when fewer than n bytes are left."""

    def __init__(self, fp) -> None:
        self.fp, self.data, self.pos = fp, b"", 0

    def fill(self, n: int) -> bool:
        """At least n bytes from ``pos`` (True); False at a clean end of the file; CaptureError
        when the file ends inside them. Never reads more than n or READ bytes at once."""
        rest = self.data[self.pos:]
        more = self.fp.read(max(READ, n - len(rest)))
        self.data, self.pos = rest + more, 0
        if len(self.data) >= n:
            return True
        if not self.data:
            return False
        raise CaptureError(f"the capture is cut short ({len(self.data)} bytes where {n} were "
                           "expected)")

    def ready(self, n: int) -> bool:
        """Whether n bytes are there from ``pos``, reading more when fewer are (as ``fill``)."""
        return len(self.data) - self.pos >= n or self.fill(n)

    def at(self, pos: int, n: int) -> tuple[bytes, int] | None:
        """(data, pos) with n bytes from the loop's ``pos`` on, after reading more; None at a
        clean end of the file (the loops keep data and pos in locals between packets)."""
        self.pos = pos
        return (self.data, self.pos) if self.fill(n) else None

    def take(self, n: int) -> bytes | None:
        if not self.ready(n):
            return None
        self.pos += n
        return self.data[self.pos - n:self.pos]


def packets(fp):
    """(time, link type, frame bytes) of every packet in an open capture file. The file header
    is read now (CaptureError if it is not a capture), the packets as they are asked for
    (CaptureError where the file is damaged or cut short)."""
    buf = _Buffer(fp)
    magic = buf.take(4)
    if magic is None:
        raise CaptureError("the file is empty")
    if magic == PCAPNG_MAGIC:
        buf.pos -= 4
        if not buf.fill(12) or buf.data[8:12] not in _BYTE_ORDERS:
            raise CaptureError("not a pcapng capture (no byte-order magic)")
        return _pcapng(buf)
    if magic not in PCAP_MAGICS:
        raise CaptureError("not a pcap or pcapng capture (unknown first bytes)")
    order, unit = PCAP_MAGICS[magic]
    header = buf.take(20)
    if header is None:
        raise CaptureError("the capture is cut short (no file header)")
    return _pcap(buf, order, unit, struct.unpack_from(order + "I", header, 16)[0] & 0xFFFF)


def _pcap(buf: _Buffer, order: str, unit: float, link: int):
    record = struct.Struct(order + "IIII")
    data, pos = buf.data, buf.pos
    while True:
        if len(data) - pos < 16:
            got = buf.at(pos, 16)
            if got is None:
                return
            data, pos = got
        seconds, fraction, length, _ = record.unpack_from(data, pos)
        if length > RECORD_LIMIT:
            raise CaptureError(f"the capture is damaged (a record of {length} bytes)")
        if len(data) - pos < 16 + length:  # the header is there: the rest or CaptureError
            data, pos = buf.at(pos, 16 + length)
        pos += 16 + length
        yield seconds + fraction * unit, link, data[pos - length:pos]


def _pcapng(buf: _Buffer):
    """Blocks: a section header sets the byte order and forgets the interfaces; an interface
    description gives a link type and time unit; packets come in enhanced, simple and the
    obsolete packet blocks; every other block is skipped by its length."""
    order, header, epb = "<", struct.Struct("<II"), struct.Struct("<IIIII")
    interfaces: list[tuple[int, float, float]] = []  # (link, seconds per unit, offset)
    data, pos = buf.data, buf.pos
    while True:
        if len(data) - pos < 12:
            got = buf.at(pos, 12)
            if got is None:
                return
            data, pos = got
        kind, length = header.unpack_from(data, pos)
        if kind == 0x0A0D0D0A:  # a section header: its byte order, interfaces anew
            magic = data[pos + 8:pos + 12]
            if magic not in _BYTE_ORDERS:
                raise CaptureError("the capture is damaged (a section header without its "
                                   "byte-order magic)")
            order = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
            header, epb = struct.Struct(order + "II"), struct.Struct(order + "IIIII")
            length, interfaces = header.unpack_from(data, pos)[1], []
        if length < 12 or length % 4 or length > BLOCK_LIMIT:
            raise CaptureError(f"the capture is damaged (a block of {length} bytes)")
        if len(data) - pos < length:  # 12 bytes are there: the rest or CaptureError
            data, pos = buf.at(pos, length)
        body, pos = pos + 8, pos + length
        if kind == 6 and length >= 32:  # enhanced packet
            interface, high, low, captured, _ = epb.unpack_from(data, body)
            if interface < len(interfaces) and captured <= length - 32:
                link, unit, offset = interfaces[interface]
                yield ((high << 32) | low) * unit + offset, link, data[body + 20:body + 20 + captured]
        elif kind == 3 and length >= 16 and interfaces:  # simple packet (interface 0)
            original = struct.unpack_from(order + "I", data, body)[0]
            yield 0.0, interfaces[0][0], data[body + 4:body + 4 + min(original, length - 16)]
        elif kind == 2 and length >= 32:  # the obsolete packet block
            interface, _, high, low, captured = struct.unpack_from(order + "HHIII", data, body)
            if interface < len(interfaces) and captured <= length - 32:
                link, unit, offset = interfaces[interface]
                yield ((high << 32) | low) * unit + offset, link, data[body + 20:body + 20 + captured]
        elif kind == 1 and length >= 20:  # an interface
            interfaces.append(_interface(order, memoryview(data)[body:pos - 4]))


def _interface(order: str, body) -> tuple[int, float, float]:
    link = struct.unpack_from(order + "H", body, 0)[0]
    unit, offset, pos = 1e-6, 0.0, 8
    while pos + 4 <= len(body):
        code, size = struct.unpack_from(order + "HH", body, pos)
        value = body[pos + 4:pos + 4 + size]
        if code == 0 or len(value) < size:
            break
        if code == 9 and size >= 1:  # if_tsresol: a power of ten, or of two with the top bit
            exp = value[0] & 0x7F
            unit = 2.0 ** -exp if value[0] & 0x80 else 10.0 ** -exp
        elif code == 14 and size >= 8:  # if_tsoffset, seconds
            offset = float(struct.unpack_from(order + "q", value, 0)[0])
        pos += 4 + size + (-size % 4)
    return link, unit, offset


def _network(link: int, frame) -> int:
    """Where the IP header starts in a frame of ``link``, or -1."""
    if link == ETHERNET:
        off, kind = 14, frame[12:14]
        while kind in (b"\x81\x00", b"\x88\xa8") and len(frame) >= off + 4:  # VLAN tags
            kind, off = frame[off + 2:off + 4], off + 4
        return off if kind in (b"\x08\x00", b"\x86\xdd") else -1
    if link in (NULL, LOOP):
        return 4
    if link == SLL:
        return 16 if frame[14:16] in (b"\x08\x00", b"\x86\xdd") else -1
    if link == SLL2:
        return 20 if frame[0:2] in (b"\x08\x00", b"\x86\xdd") else -1
    return 0 if link in RAW else -1


_IP4_TCP = struct.Struct(">BxH2xHxB2x8x4xI4xBB")  # IPv4 without options, then TCP: version and
# length, total length, fragment, protocol; sequence number, data offset, flags


def tcp_segment(link: int, frame: bytes):
    """(source, destination, seq, flags, payload) of a TCP segment in the frame, or None; the
    addresses are (text, port) and the payload a slice of the frame."""
    if link == ETHERNET and frame[12:14] == b"\x08\x00" and len(frame) >= 54:
        # the common case in one unpack: Ethernet, IPv4 without options, TCP
        first, total, frag, proto, seq, offset, flags = _IP4_TCP.unpack_from(frame, 14)
        if first == 0x45 and proto == 6 and not frag & 0x3FFF:
            raw = frame[26:38]  # addresses and ports
            src, dst = _ENDS.get(raw) or _ends(raw)
            end = 14 + total if total else len(frame)
            return src, dst, seq, flags, frame[34 + (offset >> 4) * 4:end]
    off = _network(link, frame)
    if off < 0 or len(frame) < off + 20:
        return None
    version = frame[off] >> 4
    if version == 4:
        if frame[off + 9] != 6 or struct.unpack_from(">H", frame, off + 6)[0] & 0x3FFF:
            return None  # not TCP, or a fragment
        ihl = (frame[off] & 15) * 4
        total = struct.unpack_from(">H", frame, off + 2)[0]
        end = off + total if total else len(frame)  # 0 under TCP segmentation offload
        tcp = off + ihl
        if ihl < 20:
            return None
        src, dst = _ipv4(frame[off + 12:off + 16]), _ipv4(frame[off + 16:off + 20])
    elif version == 6 and len(frame) >= off + 40:
        nxt, tcp = frame[off + 6], off + 40
        end = off + 40 + struct.unpack_from(">H", frame, off + 4)[0]
        while nxt in _V6_OPTIONS and len(frame) >= tcp + 8:
            nxt, tcp = frame[tcp], tcp + (frame[tcp + 1] + 1) * 8
        if nxt != 6:
            return None  # not TCP, a fragment, or headers cut off
        src, dst = _ipv6(frame[off + 8:off + 24]), _ipv6(frame[off + 24:off + 40])
    else:
        return None
    if len(frame) < tcp + 20:
        return None
    sport, dport, seq = struct.unpack_from(">HHI", frame, tcp)
    start = tcp + (frame[tcp + 12] >> 4) * 4
    return (src, sport), (dst, dport), seq, frame[tcp + 13], frame[start:min(end, len(frame))]


_NAMES: dict[bytes, str] = {}  # addresses already written out (a capture has few)
_ENDS: dict[bytes, tuple] = {}  # IPv4 addresses and ports -> the two (address, port) ends


def _ends(raw: bytes) -> tuple[tuple[str, int], tuple[str, int]]:
    if len(_ENDS) > 65536:  # a hostile capture with ever new connections
        _ENDS.clear()
    sport, dport = struct.unpack_from(">HH", raw, 8)
    ends = _ENDS[raw] = (_ipv4(raw[0:4]), sport), (_ipv4(raw[4:8]), dport)
    return ends


def _ipv4(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        if len(_NAMES) > 65536:  # a hostile capture with ever new addresses
            _NAMES.clear()
        name = _NAMES[raw] = "%d.%d.%d.%d" % tuple(raw)  # noqa: UP031
    return name


def _ipv6(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        import ipaddress

        if len(_NAMES) > 65536:
            _NAMES.clear()
        name = _NAMES[raw] = str(ipaddress.IPv6Address(raw))
    return name
