"""Fuzzing the DICOM doors: mutated and random PDUs at the Storage SCP (a separate process,
which must stay up, small and answering C-ECHO) and at the client's parsers (which may only
raise the errors their callers map). Bounded to a few hundred examples: seconds, not minutes."""

from __future__ import annotations

import json
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pynetdicom.sop_class import CTImageStorage, Verification

from pacs_console.core.dicom.wire import pdu, ul
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError
from pacs_console.core.settings import SCHEMA_VERSION
from pacs_console.paths import app_paths
from tests.core.wire_peers import connect, echo_ok, rss, serve, stop

QUICK = Timeouts(connect=2, acse=1, dimse=1, network=1)
EXPLICIT = "1.2.840.10008.1.2.1"
MB = 1 << 20
FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
_RQ = ul.associate_rq(Target("127.0.0.1", 1, "PACSCONSOLE", "FUZZER"),
                      [(CTImageStorage, [EXPLICIT]), (Verification, [EXPLICIT])])
_AC = pdu.associate_ac(b"PACSCONSOLE".ljust(16), b"FUZZER".ljust(16),
                       [pdu.Context(1, transfer_syntaxes=[EXPLICIT]),
                        pdu.Context(3, transfer_syntaxes=[EXPLICIT])],
                       pdu.UserInfo(16384, "1.2.3", "FUZZ"))
_ECHO = pdu.encode_command({0x0002: Verification, 0x0100: 0x0030, 0x0110: 1,
                           0x0800: ul.NO_DATASET})


def mutated(seed: bytes):
    """``seed`` with bytes overwritten, inserted or the tail cut off."""
    edits = st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)),
                     min_size=1, max_size=8)

    def apply(args) -> bytes:
        changes, cut, extra = args
        data = bytearray(seed)
        for pos, value in changes:
            data[pos] = value
        return bytes(data[:cut]) + extra

    return st.tuples(edits, st.integers(6, len(seed)), st.binary(max_size=64)).map(apply)


random_pdu = st.builds(lambda kind, length, body: struct.pack(">BBI", kind, 0, length) + body,
                       st.sampled_from([1, 2, 3, 4, 5, 6, 7, 0x41, 0xFF]),
                       st.one_of(st.integers(0, 16), st.integers(0, 0xFFFFFFFF)),
                       st.binary(max_size=256))


@pytest.fixture(scope="module")
def scp(tmp_path_factory):
    # Room for every example: the per-address cap would otherwise refuse most of them
    # before the parser saw a byte (the cap itself is tested in test_scp_doors).
    root = tmp_path_factory.mktemp("fuzz")
    settings_file = app_paths(str(root / "data")).ensure().settings_file
    settings_file.write_text(json.dumps({"schema_version": SCHEMA_VERSION,
                                         "scp_per_address": 256, "scp_max_associations": 256}))
    proc, info = serve(root, "scp", "--port", "0", "--bind", "127.0.0.1", "--accept-any")
    yield proc, info["port"]
    assert stop(proc) == 0


def _hit(port: int, data: bytes, *, associate: bool = False) -> None:
    """Send ``data`` (after a real association request with ``associate``) and go."""
    with connect(port, timeout=2) as sock:
        try:
            if associate:
                sock.sendall(_RQ)
                assert sock.recv(6)[:1] == b"\x02"
            sock.sendall(data)
        except OSError:
            pass  # aborted or reset: all fine, as long as the server lives


@FUZZ
@given(data=st.one_of(mutated(_RQ), random_pdu))
def test_fuzzed_association_requests(scp, data):
    _hit(scp[1], data)


@FUZZ
@given(data=st.one_of(mutated(pdu.pdv_header(3, len(_ECHO), 0x03) + _ECHO), random_pdu))
def test_fuzzed_pdus_inside_an_association(scp, data):
    _hit(scp[1], data, associate=True)


def test_after_the_fuzzing_the_scp_is_up_small_and_answering(scp):
    proc, port = scp
    before = rss(proc.pid)
    _hit(port, struct.pack(">BBI", 4, 0, 0xFFFFFFFF) + bytes(1000))
    assert proc.poll() is None
    assert rss(proc.pid) < max(before, 0) + 20 * MB
    assert rss(proc.pid) < 300 * MB
    assert echo_ok(port)


@FUZZ
@given(data=mutated(_AC[6:]))
def test_fuzzed_accepts_decode_or_raise_a_protocol_error(data):
    try:
        pdu.decode_associate(pdu.ASSOCIATE_AC, data)
    except pdu.ProtocolError:
        pass


@FUZZ
@given(data=st.one_of(mutated(pdu.pdv_header(1, len(_ECHO), 0x03) + _ECHO), random_pdu,
                      st.binary(max_size=512)))
def test_fuzzed_replies_reach_the_client_as_lost_never_as_a_crash(data):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assoc = ul.LeanAssociation(ours, Target("127.0.0.1", 1, "X", timeouts=QUICK),
                                   own_max_pdu=16384)
        theirs.sendall(data)
        theirs.shutdown(socket.SHUT_WR)
        try:
            assoc.receive(0.5)
        except ul.Lost:
            pass


@settings(max_examples=40, deadline=None, database=None)
@given(data=st.one_of(mutated(_AC), random_pdu))
def test_fuzzed_answers_to_the_lean_client(data):
    from tests.core.wire_peers import ScriptedAcceptor

    peer = ScriptedAcceptor(data, then_close=True)
    try:
        target = Target("127.0.0.1", peer.port, "PACSCONSOLE", "FUZZER", timeouts=QUICK)
        try:
            ul.open_lean(target, [(CTImageStorage, [EXPLICIT]),
                                  (Verification, [EXPLICIT])]).abort()
        except (ul.Fallback, ConsoleError):
            pass
    finally:
        peer.close()
