"""Open a pcap or pcapng capture offline: TCP reassembled, DICOM and HL7 found and decoded.

``pcapread`` reads the files with dpkt and unpacks the link/IP/TCP headers itself (see
there). TCP is reassembled per direction by sequence number:
retransmissions are trimmed, segments that arrive early wait (bounded), and a hole that never
fills is skipped with the decoder told so it looks for the next PDU. DICOM is recognised on any port by the PDU structure; a capture
that starts mid-association is decoded from the first PDU boundary found.
"""

from __future__ import annotations

from pathlib import Path

from pacs_console.core.relay import pcapread
from pacs_console.core.relay.conversation import AC, RQ, Conversation
from pacs_console.core.relay.findings import summary
from pacs_console.core.relay.hl7_stream import Hl7Conversation
from pacs_console.core.relay.pcapread import LINK_TYPES, CaptureError, tcp_segment
from pacs_console.core.relay.stream import find_boundary

PENDING_LIMIT = 8 << 20  # early segments held per direction before a hole is given up on
BATCH = 256 << 10  # in-order bytes of one side fed to the decoder at once (not per segment)
BATCH_SPAN = 0.05  # seconds of capture one batch may span (its time is its first segment's)
HEAD_LIMIT = (1 << 20) + (64 << 10)  # bytes per side looked at to decide what a connection
# carries: a capture begun inside a P-DATA-TF of 1 MB (a common maximum) still finds the next


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
        self.batch = bytearray()
        self.batch_from: tuple | None = None
        self.batch_when = 0.0

    # -- TCP ----------------------------------------------------------------------------------
    def segment(self, src: tuple, seq: int, flags: int, data: bytes, when: float) -> None:
        half = self.halves[src]
        if seq == half.next and data and not flags & 0x07 and not half.pending:
            half.next = (seq + len(data)) & 0xFFFFFFFF  # the common case: the next bytes
            self._deliver(src, data, when)
            return
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
            self._feed()
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
            if src != self.batch_from or len(self.batch) >= BATCH or \
                    when - self.batch_when > BATCH_SPAN:
                self._feed()
                self.batch_from, self.batch_when = src, when
            self.batch += data

    def _feed(self) -> None:
        """The batch to the decoder: one call per run of one side's bytes, not per segment."""
        if self.batch:
            self.decoder.feed(self.roles[self.batch_from], bytes(self.batch), self.batch_when)
            self.batch = bytearray()

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
        if self.decoder is not None:
            self._feed()
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


def read_capture(path: Path) -> tuple[list[dict], list[str]]:
    """(a summary per DICOM association and HL7 connection, problems); CaptureError if the file
    cannot be read at all. A damaged tail is a problem: what came before is still decoded."""
    connections: dict[tuple, _Connection] = {}  # (source, destination) either way round
    done: list[_Connection] = []
    problems: list[str] = []
    packets = skipped = 0
    foreign: dict[int, int] = {}  # link type -> frames not read
    with open(Path(path), "rb", buffering=pcapread.READ) as fp:
        reader = pcapread.packets(fp)  # CaptureError: not a capture at all
        try:
            for when, link, frame in reader:
                packets += 1
                if link not in LINK_TYPES:
                    foreign[link] = foreign.get(link, 0) + 1
                    continue
                try:
                    parsed = tcp_segment(link, frame)
                except Exception:  # noqa: BLE001 - one mangled frame is skipped, not fatal
                    skipped += 1
                    continue
                if parsed is not None:
                    _segment(connections, done, *parsed, when)
        except CaptureError as exc:
            problems.append(f"{exc} (after {packets} packets; what came before is decoded)")
    if skipped:
        problems.append(f"{skipped} frame(s) could not be parsed and were skipped")
    for link, count in sorted(foreign.items()):
        problems.append(f"{count} frame(s) of link type {link} are not read (Ethernet, Linux "
                        "cooked, loopback and raw IP are)")
    reports = []
    for conn in [*done, *dict.fromkeys(connections.values())]:
        conn.flush()
        report = conn.report()
        if report is not None:
            reports.append(report)
    reports.sort(key=lambda r: r.get("started") or 0.0)
    return reports, problems


def _segment(connections: dict, done: list, src, dst, seq: int, flags: int, data,
             when: float) -> None:
    """One TCP segment to its connection (a new one when the ports are reused)."""
    conn = connections.get((src, dst))
    if conn is not None and flags & 0x02 and not flags & 0x10 and any(
            h.fin for h in conn.halves.values()):
        done.append(conn)  # the ports were reused: a new connection
        conn = None
    if conn is None:
        conn = connections[(src, dst)] = connections[(dst, src)] = _Connection(
            src, dst, src if flags & 0x02 else None)
    conn.segment(src, seq, flags, bytes(data), when)


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
