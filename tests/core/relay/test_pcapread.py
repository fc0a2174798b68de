"""The capture reader (dpkt's pcap and pcapng readers, bounded) against dpkt's own parsing
and hand-built blocks: pcap in micro- and nanoseconds, pcapng in both byte orders with its time
units and offsets, unknown blocks skipped; the link types tcpdump and Wireshark write (Ethernet
with VLAN tags, Linux cooked SLL/SLL2, loopback/null, raw IP; IPv6 with an extension header)
each decoding the same relayed session, and the frame-level fast path agreeing with dpkt's
Ethernet/IP/TCP objects. Damage ends reading with a CaptureError where it is, never another
exception, and a lying length is refused before it is read."""

from __future__ import annotations

import io
import json
import socket
import struct

import dpkt
import pytest

from pacs_console.core.relay import pcapread
from pacs_console.core.relay.capture import read_capture
from pacs_console.core.relay.pcapread import CaptureError, tcp_segment
from tests.core.relay.captures import CLIENT, SERVER, frames, session, write_pcap, write_pcapng

V6_CLIENT, V6_SERVER = ("fd00::5", 50123), ("fd00::9", 24242)  # inside the capture file only


def _stores(report: dict) -> list[str]:
    return [m.get("status", "none") for m in report["messages"] if m["command"] == "C-STORE-RQ"]


def _read(data: bytes) -> list[tuple[float, int, bytes]]:
    return list(pcapread.packets(io.BytesIO(data)))


def _block(kind: int, body: bytes, order: str = "<") -> bytes:
    body += bytes(-len(body) % 4)
    return struct.pack(order + "II", kind, len(body) + 12) + body + struct.pack(order + "I", len(body) + 12)


def _section(order: str = "<") -> bytes:
    return _block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)


def _interface(link: int, order: str = "<", tsresol: int | None = None, offset: int = 0) -> bytes:
    options = b""
    if tsresol is not None:
        options += struct.pack(order + "HH", 9, 1) + bytes([tsresol, 0, 0, 0])
    if offset:
        options += struct.pack(order + "HHq", 14, 8, offset)
    if options:
        options += struct.pack(order + "HH", 0, 0)
    return _block(1, struct.pack(order + "HHI", link, 0, 65535) + options, order)


def _epb(frame: bytes, units: int, order: str = "<", interface: int = 0) -> bytes:
    return _block(6, struct.pack(order + "IIIII", interface, units >> 32, units & 0xFFFFFFFF,
                                 len(frame), len(frame)) + frame, order)


def test_the_reader_sees_what_dpkt_wrote(relayed, tmp_path):
    packets = frames(session(relayed))
    for writer in (write_pcapng, write_pcap):
        path = writer(tmp_path / "c", packets)
        with open(path, "rb") as fp:
            ours = [(round(t, 6), link, bytes(f)) for t, link, f in pcapread.packets(fp)]
        with open(path, "rb") as fp:
            reader = (dpkt.pcapng.Reader if writer is write_pcapng else dpkt.pcap.Reader)(fp)
            theirs = [(round(t, 6), reader.datalink(), bytes(f)) for t, f in reader]
        assert ours == theirs and len(ours) == len(packets)


def test_pcapng_in_both_byte_orders_with_units_offsets_and_other_blocks():
    frame = bytes(range(60))
    for order in "<>":
        for link, tsresol, offset, units, when in ((1, 9, 0, 1_500_000_000, 1.5),
                                                   (101, 0x80 | 10, 100, 2048, 102.0),
                                                   (113, None, 0, 3_000_000, 3.0)):
            data = (_section(order) + _interface(link, order, tsresol, offset)
                    + _block(5, b"stats", order) + _epb(frame, units, order)
                    + _block(0xBAD, bytes(20), order) + _epb(frame[:20], units, order))
            got = [(round(t, 6), lk, bytes(f)) for t, lk, f in _read(data)]
            assert got == [(when, link, frame), (when, link, frame[:20])]


def test_pcap_in_microseconds_and_nanoseconds_either_byte_order():
    frame = bytes(range(40))
    for magic, order, unit in ((0xA1B2C3D4, "<", 1e-6), (0xA1B2C3D4, ">", 1e-6),
                               (0xA1B23C4D, "<", 1e-9)):
        data = (struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, 228)
                + struct.pack(order + "IIII", 10, 500, len(frame), len(frame)) + frame)
        [(when, link, got)] = _read(data)
        assert (link, got) == (228, frame) and when == pytest.approx(10 + 500 * unit)


def _tcp(src, dst, seq: int, flags: int, data: bytes) -> bytes:
    return struct.pack(">HHIIBBHHH", src[1], dst[1], seq, 0, 5 << 4, flags, 65535, 0, 0) + data


def _ipv4(src, dst, tcp: bytes) -> bytes:
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                       bytes(map(int, src[0].split("."))), bytes(map(int, dst[0].split(".")))) + tcp


def _ipv6(src, dst, tcp: bytes) -> bytes:
    import ipaddress

    hop = bytes([6, 0]) + bytes(6)  # a hop-by-hop options header, then TCP
    return (struct.pack(">IHBB", 6 << 28, len(hop) + len(tcp), 0, 64)
            + ipaddress.IPv6Address(src[0]).packed + ipaddress.IPv6Address(dst[0]).packed
            + hop + tcp)


LINKS = {  # link type -> (how a frame is wrapped, IPv6 or not)
    "ethernet-vlan": (1, lambda ip, v6: b"\x04" * 6 + b"\x02" * 6 + b"\x81\x00\x00\x05"
                      + (b"\x86\xdd" if v6 else b"\x08\x00") + ip),
    "sll": (113, lambda ip, v6: struct.pack(">HHH8s", 0, 1, 6, b"\x02" * 8)
            + (b"\x86\xdd" if v6 else b"\x08\x00") + ip),
    "sll2": (276, lambda ip, v6: (b"\x86\xdd" if v6 else b"\x08\x00")
             + struct.pack(">HIHBB8s", 0, 1, 1, 0, 6, b"\x02" * 8) + ip),
    "null": (0, lambda ip, v6: struct.pack("=I", 30 if v6 else 2) + ip),
    "loop": (108, lambda ip, v6: struct.pack(">I", 30 if v6 else 2) + ip),
    "raw": (101, lambda ip, v6: ip),
}


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("name", sorted(LINKS))
def test_each_link_type_decodes_the_same_session(relayed, tmp_path, name, v6):
    link, wrap = LINKS[name]
    client, server = (V6_CLIENT, V6_SERVER) if v6 else (CLIENT, SERVER)
    blocks = [_section(), _interface(link)]
    for when, direction, ether in frames(session(relayed)):  # Ethernet/IPv4, re-wrapped
        ip = ether[14:]
        src, dst = (client, server) if direction == "rq" else (server, client)
        seq, flags = struct.unpack_from(">I", ip, 24)[0], ip[33]
        segment = _tcp(src, dst, seq, flags, ip[40:])
        packet = _ipv6(src, dst, segment) if v6 else _ipv4(src, dst, segment)
        blocks.append(_epb(wrap(packet, v6), int(when * 1e6)))
    path = tmp_path / f"{name}.pcapng"
    path.write_bytes(b"".join(blocks))
    [report], problems = read_capture(path)
    assert problems == []
    assert report["client"] == (f"[{client[0]}]:{client[1]}" if v6 else f"{client[0]}:{client[1]}")
    assert (report["calling_ae"], report["result"]) == ("CTSCANNER", "released")
    assert _stores(report) == ["0x0000"] * 3
    assert "Owusu" not in json.dumps(report)


def test_other_link_types_are_counted_not_read(tmp_path):
    path = tmp_path / "wifi.pcapng"
    path.write_bytes(_section() + _interface(105) + _epb(bytes(80), 1) + _epb(bytes(80), 2))
    reports, problems = read_capture(path)
    assert reports == [] and problems == ["2 frame(s) of link type 105 are not read (Ethernet, "
                                          "Linux cooked, loopback and raw IP are)"]


def test_a_frame_too_short_for_its_headers_is_no_segment():
    ip = _ipv4(CLIENT, SERVER, _tcp(CLIENT, SERVER, 1, 0x18, b"x"))
    for cut in range(40):  # IPv4 and TCP headers: 40 bytes
        assert tcp_segment(101, ip[:cut]) is None
    assert tcp_segment(101, ip[:40])[4] == b""  # cut by the snapshot length: what there is
    assert tcp_segment(101, ip)[4] == b"x"
    ether = b"\x04" * 6 + b"\x02" * 6 + b"\x08\x00" + ip
    for cut in range(54):
        assert tcp_segment(1, ether[:cut]) is None
    assert tcp_segment(1, ether)[4] == b"x"


def test_the_fast_path_agrees_with_dpkt_parsing_the_frames(relayed):
    packets = frames(session(relayed), mss=700) + frames(session(relayed), mss=1460)
    for _, _, frame in packets:
        src, dst, seq, flags, payload = tcp_segment(1, frame)
        ip = dpkt.ethernet.Ethernet(frame).data
        tcp = ip.data
        assert (src, dst) == ((socket.inet_ntoa(ip.src), tcp.sport),
                              (socket.inet_ntoa(ip.dst), tcp.dport))
        assert (seq, flags, bytes(payload)) == (tcp.seq, tcp.flags, bytes(tcp.data))


@pytest.mark.parametrize("damage", ["lying-block", "short-block", "cut-block", "cut-header",
                                    "lying-record", "cut-record"])
def test_damage_is_a_capture_error_where_it_is(damage):
    frame = bytes(range(60))
    good = _section() + _interface(1) + _epb(frame, 1)
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    record = struct.pack("<IIII", 1, 0, 60, 60) + frame
    data = {"lying-block": good + struct.pack("<II", 6, 0xFFFFFFF0) + bytes(64),
            "short-block": good + struct.pack("<II", 6, 4) + bytes(30),
            "cut-block": good + _epb(frame, 2)[:-10],
            "cut-header": good + _epb(frame, 2)[:5],
            "lying-record": pcap + record + struct.pack("<IIII", 1, 0, 1 << 30, 1 << 30),
            "cut-record": pcap + record + record[:40]}[damage]
    reader = pcapread.packets(io.BytesIO(data))
    assert bytes(next(reader)[2]) == frame
    with pytest.raises(CaptureError):
        next(reader)


def test_a_damaged_tail_is_one_problem_after_the_packets_before_it(relayed, tmp_path):
    path = write_pcapng(tmp_path / "c", frames(session(relayed)))
    data = path.read_bytes()
    path.write_bytes(data + struct.pack("<II", 6, 0xFFFFFFF0) + bytes(64))
    [report], problems = read_capture(path)
    assert _stores(report) == ["0x0000"] * 3
    assert problems == [f"the capture is damaged (a record or block of {0xFFFFFFF0 - 8} bytes) "
                        f"(after {len(frames(session(relayed)))} packets; what came before is "
                        "decoded)"]


def test_not_a_capture_is_refused_before_any_packet():
    for data in (b"", b"\x0a\x0d\x0d\x0a\x1c\x00", b"GIF89a....", b"\xd4\xc3\xb2\xa1\x02\x00"):
        with pytest.raises(CaptureError):
            list(pcapread.packets(io.BytesIO(data)))
