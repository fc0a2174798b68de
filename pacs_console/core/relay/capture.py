"""Open a pcap or pcapng capture offline: TCP reassembled, DICOM and HL7 found and decoded.

dpkt (BSD licence) reads the file formats and the Ethernet/IP/TCP headers; scapy is GPL and
cannot ship in the bundle, and pyshark needs tshark, which a field laptop may not have. TCP is
reassembled per direction by sequence number: retransmissions are trimmed, segments that
arrive early wait (bounded), and a hole that never fills is skipped with the decoder told so
it looks for the next PDU. DICOM is recognised on any port by the PDU structure; a capture
that starts mid-association is decoded from the first PDU boundary found.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

from pacs_console.core.relay.conversation import AC, RQ, Conversation
from pacs_console.core.relay.findings import summary
from pacs_console.core.relay.hl7_stream import Hl7Conversation
from pacs_console.core.relay.stream import find_boundary

PENDING_LIMIT = 8 << 20  # early segments held per direction before a hole is given up on
HEAD_LIMIT = (1 << 20) + (64 << 10)  # bytes per side looked at to decide what a connection
# carries: a capture begun inside a P-DATA-TF of 1 MB (a common maximum) still finds the next
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
_RAW = {12, 14, 101, 228, 229}


class CaptureError(ValueError):
    """Not a capture this reader understands, or damaged before anything could be read."""


class _BoundedFile:
    """A file whose reads never ask for more than is left, so a lying length field in a
    record header cannot make the reader allocate gigabytes."""

    def __init__(self, fp, size: int) -> None:
        self.fp, self.left = fp, size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.fp.read(n)
        self.left -= len(data)
        return data

    def __getattr__(self, name):
        return getattr(self.fp, name)


class _Half:
    __slots__ = ("next", "pending", "held", "fin")

    def __init__(self) -> None:
        self.next: int | None = None
        self.pending: dict[int, bytes] = {}
        self.held = 0
        self.fin = False


class _Connection:
    def __init__(self, first: tuple, second: tuple, syn_from: tuple | None) -> None:
        self.ends = (first, second)
        self.syn_from = syn_from
        self.halves = {first: _Half(), second: _Half()}
        self.kind: str | None = None
        self.head: list[tuple[float, tuple, bytes]] = []
        self.sides: dict[tuple, bytearray] = {}  # each side's first bytes, while undecided
        self.scanned: dict[tuple, int] = {}
        self.decoder: Conversation | Hl7Conversation | None = None
        self.roles: dict[tuple, str] = {}

    # -- TCP ----------------------------------------------------------------------------------
    def segment(self, src: tuple, seq: int, flags: int, data: bytes, when: float) -> None:
        half = self.halves[src]
        if flags & 0x02:  # SYN (a late copy must not rewind what was already read)
            if half.next is None:
                half.next = (seq + 1) & 0xFFFFFFFF
            if not flags & 0x10:
                self.syn_from = src
            return
        if half.next is None:
            half.next = seq  # the capture began mid-connection
        if data:
            self._data(src, half, seq, data, when)
        if flags & 0x05:  # FIN or RST
            half.fin = True

    def _data(self, src: tuple, half: _Half, seq: int, data: bytes, when: float,
              drain: bool = True) -> None:
        offset = (seq - half.next + (1 << 31)) % (1 << 32) - (1 << 31)
        if offset < 0:  # a retransmission, perhaps with new bytes at its end
            if -offset >= len(data):
                return
            data, offset = data[-offset:], 0
        if offset > 0:
            if seq not in half.pending:
                half.pending[seq] = data
                half.held += len(data)
            if half.held > PENDING_LIMIT:
                self._skip_hole(src, half, when)
            return
        self._deliver(src, data, when)
        half.next = (half.next + len(data)) & 0xFFFFFFFF
        if drain and half.pending:
            self._drain(src, half, when)

    def _drain(self, src: tuple, half: _Half, when: float) -> None:
        while half.pending:
            ready = [s for s in half.pending
                     if (s - half.next + (1 << 31)) % (1 << 32) - (1 << 31) <= 0]
            if not ready:
                return
            for s in ready:
                data = half.pending.pop(s)
                half.held -= len(data)
                self._data(src, half, s, data, when, drain=False)

    def _skip_hole(self, src: tuple, half: _Half, when: float) -> None:
        """Segments never came: jump to the earliest one held and tell the decoder."""
        first = min(half.pending, key=lambda s: (s - half.next) % (1 << 32))
        half.next = first
        if isinstance(self.decoder, Conversation) and src in self.roles:
            self.decoder.gap(self.roles[src])
        self._drain(src, half, when)

    def flush(self) -> None:
        for src, half in self.halves.items():
            while half.pending:
                self._skip_hole(src, half, 0.0 if self.decoder is None else (self.decoder.ended or 0.0))

    # -- what it carries ----------------------------------------------------------------------
    def _deliver(self, src: tuple, data: bytes, when: float) -> None:
        if self.kind is None:
            self.head.append((when, src, data))
            self.sides.setdefault(src, bytearray()).extend(data)
            self._classify(src)
            return
        if self.decoder is not None:
            self.decoder.feed(self.roles[src], data, when)

    def _classify(self, src: tuple) -> None:
        buf = self.sides[src]
        client = None
        if buf[:1] == b"\x0b" and b"MSH" in buf[:8]:
            self.kind, client = "hl7", src
        else:
            found, self.scanned[src] = find_boundary(buf, self.scanned.get(src, 0))
            if found is not None:
                self.kind = "dicom"
                if buf[found] == 1:
                    client = src
                elif buf[found] in (2, 3):
                    client = self._other(src)
        if self.kind is None:
            if len(buf) > HEAD_LIMIT:
                self.kind, self.head, self.sides = "other", [], {}
            return
        self.sides = {}
        client = self.syn_from or client or max(self.ends, key=lambda e: e[1])
        server = self._other(client)
        self.roles = {client: RQ, server: AC}
        names = (_name(client), _name(server))
        if self.kind == "hl7":
            self.decoder = Hl7Conversation(*names)
        else:
            self.decoder = Conversation(*names, resync=True)
            self.decoder.mid_association = self.syn_from is None
        head, self.head = self.head, []
        for when, side, data in head:
            self.decoder.feed(self.roles[side], data, when)

    def _other(self, end: tuple) -> tuple:
        return self.ends[1] if end == self.ends[0] else self.ends[0]

    def report(self) -> dict | None:
        if isinstance(self.decoder, Conversation):
            self.decoder.mid_association = self.syn_from is None
            self.decoder.close("end of the capture" if not any(
                h.fin for h in self.halves.values()) else "connection closed", self.decoder.ended)
            return dict(summary(self.decoder), protocol="dicom")
        if isinstance(self.decoder, Hl7Conversation):
            return self.decoder.summary()
        return None


def _name(end: tuple) -> str:
    host, port = end
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _packets(path: Path):
    import dpkt

    size = path.stat().st_size
    fp = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    try:
        magic = fp.read(4)
        fp.seek(0)
        bounded = _BoundedFile(fp, size)
        if magic == PCAPNG_MAGIC:
            reader = dpkt.pcapng.Reader(bounded)
        elif magic in PCAP_MAGICS:
            reader = dpkt.pcap.Reader(bounded)
        else:
            raise CaptureError("not a pcap or pcapng capture (unknown first bytes)")
        link = reader.datalink()
        for when, frame in reader:
            yield when, link, frame
    except (dpkt.NeedData, dpkt.UnpackError, ValueError) as exc:
        if isinstance(exc, CaptureError):
            raise
        detail = str(exc) or type(exc).__name__
        raise CaptureError(f"the capture is damaged or cut short ({detail})") from exc
    finally:
        fp.close()


def _ipv4_tcp(link: int, frame: bytes):
    """The common case (IPv4, unfragmented, over Ethernet, loopback or raw IP) read with two
    struct calls; None sends the frame to dpkt's full parsers."""
    if link == 1 and frame[12:14] == b"\x08\x00":
        off = 14
    elif link in (0, 108) and len(frame) > 4 and frame[4] >> 4 == 4:
        off = 4
    elif link in _RAW and frame[:1] and frame[0] >> 4 == 4:
        off = 0
    else:
        return None
    if len(frame) < off + 40 or frame[off + 9] != 6 or struct.unpack_from(">H", frame, off + 6)[0] & 0x3FFF:
        return None  # not TCP, or a fragment
    ihl = (frame[off] & 15) * 4
    total = struct.unpack_from(">H", frame, off + 2)[0]
    tcp = off + ihl
    if ihl < 20 or len(frame) < tcp + 20:
        return None
    sport, dport, seq = struct.unpack_from(">HHI", frame, tcp)
    start = tcp + (frame[tcp + 12] >> 4) * 4
    end = off + total if total else len(frame)  # 0 under TCP segmentation offload
    src = socket.inet_ntoa(frame[off + 12:off + 16])
    dst = socket.inet_ntoa(frame[off + 16:off + 20])
    return (src, sport), (dst, dport), seq, frame[tcp + 13], frame[start:min(end, len(frame))]


def _tcp(link: int, frame: bytes):
    fast = _ipv4_tcp(link, frame)
    if fast is not None:
        return fast
    import dpkt

    if link == 1:
        ip = dpkt.ethernet.Ethernet(frame).data
    elif link in (0, 108):
        ip = dpkt.loopback.Loopback(frame).data
    elif link == 113:
        ip = dpkt.sll.SLL(frame).data
    elif link == 276:
        ip = dpkt.sll2.SLL2(frame).data
    elif link in _RAW:
        ip = dpkt.ip.IP(frame) if frame[:1] and frame[0] >> 4 == 4 else dpkt.ip6.IP6(frame)
    else:
        return None
    if isinstance(ip, dpkt.ip.IP):
        family, tcp = socket.AF_INET, ip.data
    elif isinstance(ip, dpkt.ip6.IP6):
        family, tcp = socket.AF_INET6, ip.data
    else:
        return None
    if not isinstance(tcp, dpkt.tcp.TCP):
        return None
    src, dst = socket.inet_ntop(family, ip.src), socket.inet_ntop(family, ip.dst)
    return (src, tcp.sport), (dst, tcp.dport), tcp.seq, tcp.flags, bytes(tcp.data)


def read_capture(path: Path) -> tuple[list[dict], list[str]]:
    """(a summary per DICOM association and HL7 connection, problems); CaptureError if the file
    cannot be read at all. A damaged tail is a problem: what came before is still decoded."""
    connections: dict[frozenset, _Connection] = {}
    done: list[_Connection] = []
    problems: list[str] = []
    packets = skipped = 0
    try:
        for when, link, frame in _packets(Path(path)):
            packets += 1
            try:
                parsed = _tcp(link, frame)
            except Exception:  # noqa: BLE001 - one mangled frame is skipped, not fatal
                skipped += 1
                continue
            if parsed is None:
                continue
            src, dst, seq, flags, data = parsed
            key = frozenset((src, dst))
            conn = connections.get(key)
            if conn is not None and flags & 0x02 and not flags & 0x10 and any(
                    h.fin for h in conn.halves.values()):
                done.append(connections.pop(key))  # the ports were reused: a new connection
                conn = None
            if conn is None:
                conn = connections[key] = _Connection(src, dst, src if flags & 0x02 else None)
            conn.segment(src, seq, flags, data, when)
    except CaptureError as exc:
        if not packets:
            raise
        problems.append(f"{exc} (after {packets} packets; what came before is decoded)")
    if skipped:
        problems.append(f"{skipped} frame(s) could not be parsed and were skipped")
    reports = []
    for conn in [*done, *connections.values()]:
        conn.flush()
        report = conn.report()
        if report is not None:
            reports.append(report)
    reports.sort(key=lambda r: r.get("started") or 0.0)
    return reports, problems


def read_any(path: Path) -> tuple[str, list[dict], list[str]]:
    """(kind, summaries, problems) of a relay trace or a pcap/pcapng capture, told apart by
    the first bytes; CaptureError or OSError when it cannot be read at all."""
    from pacs_console.core.relay.tracefile import MAGIC, read_trace

    path = Path(path)
    with open(path, "rb") as fp:
        head = fp.read(len(MAGIC))
    if head == MAGIC:
        return ("relay trace", *read_trace(path))
    return ("capture", *read_capture(path))
