"""Read the packets of a pcap or pcapng capture, and the TCP segment in each frame.

The files are read by dpkt's readers (``dpkt.pcap.Reader``, ``dpkt.pcapng.Reader``): BSD
licensed, pure Python, no tshark needed (pyshark needs tshark, which a field laptop may not
have; scapy is GPL). Reading the file is not the cost (about 5 µs a packet); the frames are not
handed to dpkt's per-header objects but unpacked here with ``struct`` (one unpack for the usual
Ethernet/IPv4/TCP frame), with the (address, port) ends cached.

Every door is hostile: dpkt takes record and block lengths from the file and reads that many
bytes, so it reads through ``_Bounded``, which refuses a read longer than a record or block can
be (or negative) before anything is allocated, and turns a file that ends inside a record into
``CaptureError``; any other failure of dpkt's parsing is a ``CaptureError`` too, after the
packets before the damage.

Link types read: Ethernet (with 802.1Q/QinQ tags), BSD loopback/null, Linux cooked SLL and
SLL2, raw IP; IPv4 (unfragmented) and IPv6 (with its usual extension headers) carrying TCP.
Frames of other link types are counted, not read. pcapng as dpkt reads it: enhanced packet
blocks, with the link type, time unit and offset of the first interface.
"""

from __future__ import annotations

import struct

PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",  # microseconds, either byte order
               b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")  # nanoseconds
READ = 1 << 20  # the file's buffer: dpkt reads each header and record from it
RECORD_LIMIT = 1 << 18  # a pcap record (libpcap's largest snapshot length)
BLOCK_LIMIT = 16 << 20  # a pcapng block (Wireshark's limit)
ETHERNET, NULL, LOOP, SLL, SLL2 = 1, 0, 108, 113, 276
RAW = {12, 14, 101, 228, 229}
LINK_TYPES = {ETHERNET, NULL, LOOP, SLL, SLL2, *RAW}
_V6_OPTIONS = {0, 43, 60}  # hop-by-hop, routing, destination options: skipped to reach TCP


class CaptureError(ValueError):
    """Not a capture this reader understands, or damaged before anything could be read."""


class _Bounded:
    """The file as dpkt reads it: a read of a negative length or more than ``limit`` bytes
    (a length field that lies) is refused before any allocation; a read the file ends inside
    is a cut-short capture (dpkt would hand on the short record as a packet)."""

    __slots__ = ("_read", "limit", "name")

    def __init__(self, fp, limit: int) -> None:
        self._read, self.limit = fp.read, limit
        self.name = getattr(fp, "name", "<capture>")

    def read(self, n: int = -1) -> bytes:
        if not 0 <= n <= self.limit:
            raise CaptureError(f"the capture is damaged (a record or block of {n} bytes)")
        data = self._read(n)
        if len(data) < n and data:
            raise CaptureError(f"the capture is cut short ({len(data)} bytes where {n} were "
                               "expected)")
        return data


def packets(fp):
    """(time, link type, frame bytes) of every packet in an open, seekable capture file. The
    file header is read now (CaptureError if it is not a capture), the packets as they are
    asked for (CaptureError where the file is damaged or cut short)."""
    import dpkt  # here, not at import: its ~60 protocol modules cost the console's start 0.1-0.4 s

    magic = fp.read(4)
    fp.seek(-len(magic), 1)
    if not magic:
        raise CaptureError("the file is empty")
    if magic == PCAPNG_MAGIC:
        kind, name, limit = dpkt.pcapng.Reader, "pcapng", BLOCK_LIMIT
    elif magic in PCAP_MAGICS:
        kind, name, limit = dpkt.pcap.Reader, "pcap", RECORD_LIMIT
    else:
        raise CaptureError("not a pcap or pcapng capture (unknown first bytes)")
    try:
        reader = kind(_Bounded(fp, limit))
    except CaptureError:
        raise
    except Exception as exc:  # noqa: BLE001 - dpkt's refusal of a damaged header, whatever it is
        raise CaptureError(f"not a readable {name} capture ({_why(exc)})") from None
    return _packets(reader, reader.datalink() & 0xFFFF)


def _packets(reader, link: int):
    try:
        for when, frame in reader:
            yield float(when), link, frame  # dpkt gives a Decimal for nanosecond pcap
    except CaptureError:
        raise
    except Exception as exc:  # noqa: BLE001 - dpkt parsing a damaged block, whatever it raises
        raise CaptureError(f"the capture is damaged ({_why(exc)})") from None


def _why(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:120]


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
