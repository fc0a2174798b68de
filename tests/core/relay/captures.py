"""Captures the tests write themselves: a relay session's bytes as Ethernet/IPv4/TCP frames in
pcapng (dpkt's writer), optionally with segments reordered, retransmitted or cut off."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import dpkt

from pacs_console.core.relay.tracefile import DATA_AC, DATA_RQ, records

CLIENT, SERVER = ("10.20.0.5", 50123), ("10.20.0.9", 24242)  # inside the capture file only


def session(trace: Path) -> list[tuple[str, bytes, float]]:
    """(direction, bytes, time) of every chunk the relay passed, in order."""
    return [("rq" if kind == DATA_RQ else "ac", payload, when)
            for kind, _, when, payload in records(trace) if kind in (DATA_RQ, DATA_AC)]


def frames(chunks, *, mss: int = 1460, handshake: bool = True, client=CLIENT, server=SERVER,
           fin: bool = True) -> list[tuple[float, str, bytes]]:
    """(time, direction, Ethernet frame) of a TCP connection carrying ``chunks``."""
    seq = {"rq": 1_000_000, "ac": 4_000_000_000}  # the acceptor's sequence wraps past 2**32
    out = []

    def segment(direction: str, flags: int, data: bytes, when: float) -> None:
        src, dst = (client, server) if direction == "rq" else (server, client)
        tcp = dpkt.tcp.TCP(sport=src[1], dport=dst[1], seq=seq[direction], flags=flags, data=data)
        ip = dpkt.ip.IP(src=socket.inet_aton(src[0]), dst=socket.inet_aton(dst[0]),
                        p=dpkt.ip.IP_PROTO_TCP, data=tcp)
        ip.len = 20 + len(bytes(tcp))
        frame = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6,
                                       type=dpkt.ethernet.ETH_TYPE_IP, data=ip)
        out.append((when, direction, bytes(frame)))
        seq[direction] = (seq[direction] + len(data) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF

    start = chunks[0][2] if chunks else 0.0
    if handshake:
        segment("rq", dpkt.tcp.TH_SYN, b"", start)
        segment("ac", dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, b"", start)
    for direction, data, when in chunks:
        for pos in range(0, len(data), mss):
            segment(direction, dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, data[pos:pos + mss], when)
    if fin and chunks:
        segment("rq", dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK, b"", chunks[-1][2])
        segment("ac", dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK, b"", chunks[-1][2])
    return out


def disorder(packets, seed: int = 5, every: int = 5, repeat: float = 0.15):
    """Swap segments of one direction a few places apart and send some twice (retransmissions)."""
    rng = random.Random(seed)
    packets = list(packets)
    for i in range(2, len(packets) - 3, every):
        j = next((k for k in range(i + 1, min(i + 4, len(packets)))
                  if packets[k][1] == packets[i][1]), None)
        if j is not None:
            packets[i], packets[j] = packets[j], packets[i]
    out = []
    for packet in packets:
        out.append(packet)
        if rng.random() < repeat:
            out.append(packet)
    return out


def write_pcapng(path: Path, packets, *, classic: bool = False) -> Path:
    """The packets as pcapng (or, ``classic``, the older pcap format)."""
    with open(path, "wb") as fp:
        kind = dpkt.pcap.Writer if classic else dpkt.pcapng.Writer
        writer = kind(fp, snaplen=65535, linktype=dpkt.pcap.DLT_EN10MB)
        for when, _, frame in packets:
            writer.writepkt(frame, ts=when)
    return path


def write_pcap(path: Path, packets) -> Path:
    return write_pcapng(path, packets, classic=True)
