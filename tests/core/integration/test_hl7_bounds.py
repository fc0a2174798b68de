"""The HL7 listener is bounded: an over-large message gets AR and the connection closes, and
mutated frames (hypothesis, bounded) never stop it answering the next real message."""

from __future__ import annotations

import queue
import socket
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pacs_console.core.hl7 import mllp, templates
from pacs_console.core.hl7.listener import Hl7Listener, ListenerOptions
from pacs_console.core.hl7.mllp import CR, END, START

HOST = "127.0.0.1"


def _message() -> str:
    return templates.render("adt-a04", templates.test_patient_fields(seed=5))


def _read_until_closed(sock: socket.socket, limit: float = 10.0) -> bytes:
    sock.settimeout(limit)
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_an_oversized_message_gets_ar_and_the_connection_closes():
    notify: queue.SimpleQueue = queue.SimpleQueue()
    server = Hl7Listener(0, host=HOST, options=ListenerOptions(max_message=64 * 1024),
                         notify=notify).start()
    try:
        text = _message()
        big = START + text.encode() + b"OBX|1|ED|PDF||" + b"A" * (4 << 20)  # no END: a flood
        with socket.create_connection((HOST, server.port), timeout=10) as sock:
            try:
                sock.sendall(big)
            except OSError:
                pass  # the listener closed its side once over the cap: expected
            reply = _read_until_closed(sock)
        assert b"MSA|AR|" in reply and b"larger than 65536 bytes" in reply
        record = notify.get(timeout=5)
        assert record.ack_code == "AR" and "larger than" in record.framing_problems[0]
        assert record.size <= 64 * 1024 + 70_000  # refused soon after the cap, not at 4 MB
        result = mllp.send(HOST, server.port, text, ack_timeout=5)
        assert result.ok and result.ack.code == "AA"
    finally:
        server.stop()


def test_many_messages_on_one_connection_are_each_answered():
    server = Hl7Listener(0, host=HOST).start()
    try:
        text = _message()
        with socket.create_connection((HOST, server.port), timeout=10) as sock:
            sock.sendall((START + text.encode() + END + CR) * 50)
            got = b""
            deadline = time.monotonic() + 20
            while got.count(b"MSA|AA|") < 50 and time.monotonic() < deadline:
                got += sock.recv(65536)
        assert got.count(b"MSA|AA|") == 50
    finally:
        server.stop()


_SERVER: list[Hl7Listener] = []


def _shared() -> Hl7Listener:
    if not _SERVER:
        _SERVER.append(Hl7Listener(0, host=HOST, options=ListenerOptions(
            max_message=32 * 1024, idle_timeout=2)).start())
    return _SERVER[0]


def _mutate(data: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
    raw = bytearray(data)
    for pos, value in flips:
        raw[pos % len(raw)] = value
    return bytes(raw[:cut] if cut is not None else raw)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=12),
       cut=st.one_of(st.none(), st.integers(0, 2000)),
       garbage=st.binary(max_size=256), repeat=st.integers(1, 3))
def test_mutated_frames_never_stop_the_listener(flips, cut, garbage, repeat):
    server = _shared()
    frame = START + _message().encode() + END + CR
    payload = (_mutate(frame, flips, cut) + garbage) * repeat
    with socket.create_connection((HOST, server.port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(5)
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass
    assert server.running


def test_after_fuzzing_a_real_message_is_answered():
    server = _shared()
    try:
        result = mllp.send(HOST, server.port, _message(), ack_timeout=5)
        assert result.ok and result.ack.code == "AA"
    finally:
        server.stop()
        _SERVER.clear()
