"""Fuzzing the relay: hostile byte streams into the decoder (which may never raise) and hostile
peers at a running relay process (which must stay up, small, and keep relaying)."""

from __future__ import annotations

import socket
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacs_console.core.dicom.wire import pdu
from pacs_console.core.relay.conversation import AC, RQ, Conversation
from pacs_console.core.relay.findings import summary
from tests.core.relay.pdus import CT, EXPLICIT, ac, ct_dataset, encode, rq, store_rq, store_rsp
from tests.core.wire_peers import echo_ok, rss, serve, stop

FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SESSION = [(RQ, rq([(CT, [EXPLICIT])])), (AC, ac([0])),
           (RQ, store_rq(1, encode(ct_dataset()))), (AC, store_rsp(1, 0)),
           (RQ, pdu.release_rq()), (AC, pdu.release_rp())]
MB = 1 << 20


def _decode(steps, chunk: int, resync: bool) -> dict:
    conv = Conversation(resync=resync)
    for direction, data in steps:
        for pos in range(0, len(data), chunk):
            conv.feed(direction, data[pos:pos + chunk], 1.0)
    conv.close(when=2.0)
    return summary(conv)


random_pdu = st.builds(lambda kind, length, body: struct.pack(">BBI", kind, 0, length) + body,
                       st.sampled_from([1, 2, 3, 4, 5, 6, 7, 0x41]),
                       st.one_of(st.integers(0, 80), st.integers(0, 0xFFFFFFFF)),
                       st.binary(max_size=300))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from([RQ, AC]), st.one_of(random_pdu, st.binary(max_size=200))),
                max_size=12), st.integers(1, 300), st.booleans())
def test_random_streams_never_break_the_decoder(steps, chunk, resync):
    report = _decode(steps, chunk, resync)
    assert isinstance(report["diagnosis"], list)


@FUZZ
@given(st.integers(0, len(SESSION) - 1), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)),
                                                  min_size=1, max_size=8), st.integers(1, 5000),
       st.booleans())
def test_mutated_sessions_never_break_the_decoder(which, edits, chunk, resync):
    steps = [list(step) for step in SESSION]
    data = bytearray(steps[which][1])
    for pos, value in edits:
        data[pos % len(data)] = value
    steps[which][1] = bytes(data)
    report = _decode(steps, chunk, resync)
    assert report["result"] in ("released", "accepted", "requested", "rejected", "aborted",
                                "no association", "closed without release", "releasing")


def _hostile(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(payload)
            sock.settimeout(2)
            sock.recv(1 << 16)
        except OSError:
            pass


def test_a_running_relay_survives_hostile_peers_and_keeps_relaying(tmp_path):
    scp, scp_info = serve(tmp_path / "scp", "scp", "--port", "0", "--bind", "127.0.0.1",
                          "--accept-any")
    relay, info = serve(tmp_path / "relay", "relay", "0", "--bind", "127.0.0.1", "--to",
                        f"127.0.0.1:{scp_info['port']}", "--out", str(tmp_path / "r.trace"))
    try:
        assert info["listening"] == "127.0.0.1" and info["port"] > 0
        start = rss(relay.pid)
        hostile = [b"GET / HTTP/1.1\r\n\r\n", b"\x01\x00\xff\xff\xff\xff" + bytes(100),
                   b"\x04\x00\x00\x00\x00\x08\x00\x00\x00\x09\x01\x03" + bytes(40),
                   rq([(CT, [EXPLICIT])])[:50], bytes(range(256)) * 64,
                   b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x00"]
        for payload in hostile * 3:
            _hostile(info["port"], payload)
        assert echo_ok(info["port"], ae="ANY-SCP")
        assert rss(relay.pid) - start < 64 * MB
        assert relay.poll() is None
    finally:
        assert stop(relay) == 0
        stop(scp)
    lines = [line for line in relay.stdout.read().splitlines() if line.startswith("{")]
    assert len(lines) >= len(hostile) * 3 + 1
