"""The one wire codec: every PDU round-trips; every malformed structure is a ProtocolError;
the lean client aborts and diagnoses instead of crashing; -pdu is what it advertises."""

from __future__ import annotations

import struct

import pytest
from pynetdicom.pdu import A_ASSOCIATE_AC, A_ASSOCIATE_RQ
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

from pacs_console.core.dicom.ops.query import find
from pacs_console.core.dicom.wire import pdu, ul
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError
from tests.core.dicom_ops.helpers import drain
from tests.core.wire_peers import ScriptedAcceptor

QUICK = Timeouts(connect=3, acse=3, dimse=3, network=3)
EXPLICIT, IMPLICIT = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"
USER = pdu.UserInfo(1 << 20, "1.2.3.4", "TEST_1")


def _rq() -> bytes:
    return pdu.associate_rq("CALLED", "CALLING", [(Verification, [EXPLICIT, IMPLICIT]),
                                                  (StudyRootQueryRetrieveInformationModelFind,
                                                   [IMPLICIT])], USER)


def _ac(contexts: list[pdu.Context], user: pdu.UserInfo = USER) -> bytes:
    return pdu.associate_ac(b"CALLED".ljust(16), b"CALLING".ljust(16), contexts, user)


def test_rq_and_ac_round_trip_and_pynetdicom_reads_them():
    rq = _rq()
    decoded = pdu.decode_associate(rq[0], rq[6:])
    assert (decoded.called_ae, decoded.calling_ae) == ("CALLED", "CALLING")
    assert [(cx.id, cx.abstract_syntax, cx.transfer_syntaxes) for cx in decoded.contexts] == [
        (1, Verification, [EXPLICIT, IMPLICIT]),
        (3, StudyRootQueryRetrieveInformationModelFind, [IMPLICIT])]
    assert decoded.user.max_pdu == 1 << 20 and decoded.user.implementation_class_uid == "1.2.3.4"
    theirs = A_ASSOCIATE_RQ()
    theirs.decode(rq)  # an independent decoder agrees
    assert theirs.called_ae_title == "CALLED"
    ac = _ac([pdu.Context(1, transfer_syntaxes=[EXPLICIT]), pdu.Context(3, [], [IMPLICIT], 3)])
    back = pdu.decode_associate(ac[0], ac[6:])
    assert [(cx.id, cx.result, cx.transfer_syntaxes) for cx in back.contexts] == [
        (1, 0, [EXPLICIT]), (3, 3, [])]
    A_ASSOCIATE_AC().decode(ac)
    assert pdu.decode_reason(pdu.associate_rj(1, 1, 3)[6:]) == (1, 1, 3)
    assert pdu.check_header(pdu.release_rq()[:6], 0) == (pdu.RELEASE_RQ, 4)
    assert pdu.check_header(pdu.abort()[:6], 0) == (pdu.ABORT, 4)


@pytest.mark.parametrize("header, problem", [
    (struct.pack(">BBI", 4, 0, 0xFFFFFFFF), "announced"),  # 4 GiB of P-DATA
    (struct.pack(">BBI", 4, 0, (1 << 20) + 1), "announced"),  # just over what we advertised
    (struct.pack(">BBI", 1, 0, 64 << 20), "announced"),  # a 64 MiB A-ASSOCIATE-RQ
    (struct.pack(">BBI", 5, 0, 40), "announced"),  # a release that is not 4 bytes
    (struct.pack(">BBI", 0x41, 0, 4), "unknown PDU type"),
])
def test_a_header_is_refused_before_anything_is_allocated(header, problem):
    with pytest.raises(pdu.ProtocolError, match=problem):
        pdu.check_header(header, 0)


@pytest.mark.parametrize("mutate, problem", [
    (lambda b: b[:68], "no application context"),
    (lambda b: b[:-3], "stray bytes|claims"),
    (lambda b: b[:70] + b"\xff\xff" + b[72:], "claims"),  # the first item overruns the PDU
    (lambda b: b[:30], "at least 68"),
    (lambda b: b"\x00\x02" + b[2:], "protocol version"),
])
def test_a_malformed_rq_is_a_protocol_error(mutate, problem):
    body = _rq()[6:]
    with pytest.raises(pdu.ProtocolError, match=problem):
        pdu.decode_associate(pdu.ASSOCIATE_RQ, mutate(body))


def _zero_length_context_ac() -> bytes:
    body = (struct.pack(">HH", 1, 0) + b"CALLED".ljust(16) + b"CALLING".ljust(16) + bytes(32)
            + pdu.item(0x10, pdu.APPLICATION_CONTEXT.encode()) + pdu.item(0x21, b"")
            + pdu.item(0x50, pdu.item(0x51, struct.pack(">I", 16384))))
    return pdu.pdu(pdu.ASSOCIATE_AC, body)


def test_zero_length_context_in_an_ac_aborts_with_a_diagnosis():
    peer = ScriptedAcceptor(_zero_length_context_ac())
    try:
        target = Target("127.0.0.1", peer.port, "CALLED", "CALLING", timeouts=QUICK)
        with pytest.raises(ConsoleError) as raised:
            ul.open_lean(target, [(Verification, [EXPLICIT])])
        assert raised.value.diagnosis.code == "protocol-error"
        assert "presentation context item of 0 bytes" in raised.value.diagnosis.what
        assert peer.sent_after(1)[:1] == b"\x07"  # told with A-ABORT, then closed
        # Through the operation a user runs: a diagnosis, no exception, no second attempt.
        _, result = drain(find(target, "STUDY", {"PatientName": "*"}))
        assert result.diagnosis.code == "protocol-error"
        assert peer.connections == 2
    finally:
        peer.close()


def test_a_rejection_is_not_tried_again_through_pynetdicom():
    peer = ScriptedAcceptor(pdu.associate_rj(1, 1, 7))
    try:
        target = Target("127.0.0.1", peer.port, "WRONG", "CALLING", timeouts=QUICK)
        _, result = drain(find(target, "STUDY", {"PatientName": "*"}))
        assert "called AE title not recognised" in result.diagnosis.what
        assert peer.connections == 1
    finally:
        peer.close()


def test_a_pdata_over_the_advertised_maximum_aborts_the_association():
    def answer(request: bytes) -> bytes:
        accepted = _ac([pdu.Context(1, transfer_syntaxes=[EXPLICIT])])
        return accepted + struct.pack(">BBI", 4, 0, 16384 + 100)  # over the 16 KiB asked for

    peer = ScriptedAcceptor(answer)
    try:
        target = Target("127.0.0.1", peer.port, "CALLED", "CALLING", timeouts=QUICK,
                        max_pdu=16384)
        assoc = ul.open_lean(target, [(Verification, [EXPLICIT])])
        assert assoc.report()["local"]["max_pdu"] == 16384
        with pytest.raises(ul.Lost) as lost:
            assoc.receive(3)
        assert lost.value.protocol and "16384" in str(lost.value)
        assert peer.sent_after(1)[:1] == b"\x07"
    finally:
        peer.close()


def test_max_pdu_is_finite_and_honoured_on_the_lean_path():
    rq = ul.associate_rq(Target("h", 1, "A", max_pdu=0), [(Verification, [EXPLICIT])])
    assert pdu.decode_associate(1, rq[6:]).user.max_pdu == pdu.DEFAULT_MAX_PDU
    rq = ul.associate_rq(Target("h", 1, "A", max_pdu=32768), [(Verification, [EXPLICIT])])
    assert pdu.decode_associate(1, rq[6:]).user.max_pdu == 32768
    assert pdu.effective_max_pdu(1 << 30) == pdu.MAX_MAX_PDU


def test_pdu_option_out_of_range_is_one_line_and_exit_2(tmp_path):
    from tests.conftest import run_cli

    done = run_cli("echo", "127.0.0.1", "1", "-pdu", "100", data_dir=tmp_path)
    assert done.returncode == 2
    assert "4096-16777216" in done.stderr and done.stderr.strip().count("\n") == 0


def test_a_malformed_reply_mid_query_is_diagnosed_not_retried():
    def answer(request: bytes) -> bytes:
        accepted = _ac([pdu.Context(1, transfer_syntaxes=[EXPLICIT])])
        return accepted + struct.pack(">BBIIBB", 4, 0, 8, 500, 1, 3) + b"xx"  # PDV overruns

    peer = ScriptedAcceptor(answer)
    try:
        target = Target("127.0.0.1", peer.port, "CALLED", "CALLING", timeouts=QUICK)
        _, result = drain(find(target, "STUDY", {"PatientName": "*"}))
        assert result.diagnosis.code == "protocol-error"
        assert "PDV claims 500 bytes" in result.diagnosis.what
        assert peer.connections == 1
    finally:
        peer.close()
