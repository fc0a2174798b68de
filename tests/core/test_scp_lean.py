"""The console's Storage SCP on the lean Upper Layer: negotiation, bad peers, stop mid-association."""

from __future__ import annotations

import socket
import struct

import pytest
from pynetdicom.sop_class import CTImageStorage, StudyRootQueryRetrieveInformationModelFind

from pacs_console.core.dicom.ops.echo import echo
from pacs_console.core.dicom.servers.storage import StorageSCP
from pacs_console.core.dicom.wire import pdu, ul
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target

QUICK = Timeouts(connect=3, acse=3, dimse=5, network=5)
EXPLICIT = "1.2.840.10008.1.2.1"


@pytest.fixture
def scp(tmp_path):
    server = StorageSCP(tmp_path / "store", "PACSCONSOLE", 0, host="127.0.0.1",
                        timeouts=QUICK).start()
    yield server
    server.stop()


def _target(scp) -> Target:
    return Target("127.0.0.1", scp.port, scp.ae_title, "TESTER", timeouts=QUICK)


def test_contexts_are_accepted_and_rejected_with_the_right_results(scp):
    assoc = ul.open_lean(_target(scp), [(CTImageStorage, ["1.2.3.999", EXPLICIT]),
                                        (StudyRootQueryRetrieveInformationModelFind, [EXPLICIT]),
                                        (CTImageStorage, ["1.2.3.999"])])
    try:
        report = assoc.report()
        assert [(cx["abstract_syntax"], cx["transfer_syntax"]) for cx in report["accepted"]] == [
            (CTImageStorage, EXPLICIT)]
        assert [cx["result"] for cx in report["rejected"]] == [
            "Abstract Syntax Not Supported", "Transfer Syntax(es) Not Supported"]
        assert report["fingerprint"]["product"] == "PACS Console"
    finally:
        assoc.release()


def test_unknown_application_context_is_rejected(scp):
    rq = ul.associate_rq(_target(scp), [(CTImageStorage, [EXPLICIT])])
    rq = rq.replace(ul.APPLICATION_CONTEXT, b"1.2.840.10008.3.1.1.9")
    with socket.create_connection(("127.0.0.1", scp.port), timeout=3) as sock:
        sock.sendall(rq)
        answer = sock.recv(10)
    assert answer[0] == 0x03 and answer[7:10] == bytes([1, 1, 2])


def test_a_message_on_a_context_never_accepted_is_aborted(scp):
    assoc = ul.open_lean(_target(scp), [(CTImageStorage, [EXPLICIT])])
    assoc.send(99, pdu.encode_command({0x0100: 0x0030, 0x0110: 1, 0x0800: ul.NO_DATASET}))
    with pytest.raises(ul.Lost):
        assoc.receive(3)
    assoc.sock.close()


def test_garbage_and_stop_mid_association_leave_nothing_behind(scp):
    with socket.create_connection(("127.0.0.1", scp.port), timeout=3) as sock:
        sock.sendall(struct.pack(">BBI", 0x01, 0, 3) + b"xyz")  # a truncated A-ASSOCIATE-RQ
        assert sock.recv(16)[:1] in (b"", b"\x07")
    assert echo("127.0.0.1", scp.port, scp.ae_title).ok  # the server carries on
    assoc = ul.open_lean(_target(scp), [(CTImageStorage, [EXPLICIT])])
    scp.stop()
    with pytest.raises(ul.Lost):
        assoc.receive(3)
    assoc.sock.close()
    assert not scp.running
    assert list(scp.store.rglob("*.part")) == []
