"""C-ECHO, association reports, fingerprints and failure diagnoses against real peers."""

from __future__ import annotations

import socket
import time

import pytest
from pynetdicom.sop_class import Verification

from pacs_console.core.db.nodes import NodeRecord
from pacs_console.core.db.testruns import list_test_runs, save_test_run
from pacs_console.core.dicom.diagnosis.dimse_status import describe_status
from pacs_console.core.dicom.diagnosis.fingerprint import fingerprint
from pacs_console.core.dicom.ops.echo import echo_series, echo_target
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.wire.association import open_association
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.errors import ConsoleError
from tests.core.dicom_ops.helpers import drain, free_port, target_of

pytestmark = pytest.mark.peers


def test_echo_orthanc_reports_association_and_saves_evidence(orthanc, ctx):
    result = echo_target(target_of(orthanc))
    assert result.ok and result.status == 0
    assert result.connect_ms > 0 and result.associate_ms > 0 and result.echo_ms > 0
    report = result.association
    assert report["peer"]["max_pdu"] == 16384
    assert report["peer"]["implementation_version_name"].startswith("OFFIS_DCMTK")
    assert report["accepted"][0]["name"] == "Verification SOP Class"
    assert report["accepted"][0]["role"] == "SCU"
    assert report["peer"]["async_ops_window"] == {"invoked": 1, "performed": 1}
    assert "Orthanc" in report["fingerprint"]["product"]  # DCMTK identity on Orthanc's port
    run = save_test_run(ctx.db, node_id=None, **result.evidence())
    assert run.kind == "echo" and run.outcome == "ok"
    assert run.association["peer"]["max_pdu"] == 16384
    assert list_test_runs(ctx.db)[0].metrics["echo_ms"] == pytest.approx(result.echo_ms)


def test_echo_dcmqrscp_fingerprint_is_dcmtk(dcmqrscp):
    result = echo_target(target_of(dcmqrscp))
    assert result.ok
    assert result.association["fingerprint"]["product"] == "DCMTK"
    assert result.association["fingerprint"]["version"] == "3.6.7"
    assert result.association["peer"]["max_pdu"] == 131072


def test_echo_series_statistics(orthanc):
    results, stats = drain(echo_series(target_of(orthanc), count=4, interval=0))
    assert len(results) == 4 and all(r.ok for r in results)
    assert stats.sent == 4 and stats.ok == 4 and stats.loss_pct == 0
    for phase in (stats.connect, stats.associate, stats.round_trip):
        assert phase["min"] <= phase["median"] <= phase["p95"] <= phase["max"]
        assert phase["jitter"] >= 0
    evidence = stats.evidence()
    assert evidence["kind"] == "echo-series" and evidence["outcome"] == "ok"


def test_echo_series_counts_loss():
    port = free_port()
    results, stats = drain(echo_series(Target("127.0.0.1", port, "NOBODY"), count=2, interval=0))
    assert stats.sent == 2 and stats.ok == 0 and stats.loss_pct == 100
    assert stats.last_diagnosis.code == "connection-refused"


def test_wrong_called_ae_on_orthanc(orthanc):
    result = echo_target(target_of(orthanc, called_ae="NOTORTHANC"))
    assert not result.ok and result.diagnosis.code == "called-ae-rejected"
    assert "7 (called AE title not recognised)" in result.diagnosis.evidence["reason"]
    assert result.evidence()["outcome"] == "failed"


def test_closed_port_raises_console_error():
    with pytest.raises(ConsoleError) as info, open_association(
            Target("127.0.0.1", free_port(), "ANY"), [Verification]):
        pass
    assert info.value.diagnosis.code == "connection-refused"


def test_silent_listener_times_out_at_configured_acse_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        target = Target("127.0.0.1", listener.getsockname()[1], "ANY",
                        timeouts=Timeouts(connect=2, acse=1.5))
        start = time.perf_counter()
        result = echo_target(target)
        elapsed = time.perf_counter() - start
    finally:
        listener.close()
    assert result.diagnosis.code == "association-timeout"
    assert 1.4 <= elapsed <= 2.5, elapsed


def test_listener_that_closes_is_not_called_a_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    import threading

    def slam():  # every connection: the pre-connect, the association and its one retry
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=slam, daemon=True)
    thread.start()
    try:
        result = echo_target(Target("127.0.0.1", listener.getsockname()[1], "ANY",
                                    timeouts=Timeouts(acse=5)))
    finally:
        listener.close()
    assert result.diagnosis.code == "closed-without-answer"


def test_demo_pacs_fingerprint_is_pacs_console():
    with DemoPacs(studies=[]) as demo:
        result = echo_target(Target(demo.host, demo.port, demo.ae_title))
    assert result.ok and result.association["fingerprint"]["product"] == "PACS Console"


def test_reactor_leaves_a_paused_senders_reply_alone():
    """A reply queued while a send_*() call has paused the reactor is the sender's, even if the
    reactor had already passed its checkpoint (pynetdicom's race; seen under load)."""
    with DemoPacs(studies=[]) as demo, open_association(
            Target(demo.host, demo.port, demo.ae_title), [Verification]) as assoc:
        assoc._reactor_checkpoint.clear()  # what send_*() does before it sends
        reply = (1, object())
        assoc.dimse.msg_queue.put(reply)
        time.sleep(0.05)  # the reactor runs every 0.1 ms; it must not take the reply
        assert assoc.dimse.get_msg(block=False) == (None, None)
        assert assoc.dimse.get_msg(block=True) is reply
        assoc._reactor_checkpoint.set()
        assert assoc.send_c_echo().Status == 0  # the reactor serves the association as before


@pytest.mark.parametrize("uid,version,product", [
    ("1.2.826.0.1.3680043.9.3811.3.0.4", "PYNETDICOM_304", "pynetdicom"),
    ("1.2.40.0.13.1.3", "dcm4che-5.31.0", "dcm4che"),
    ("1.3.6.1.4.1.30071.8", "fo-dicom 5.1.2", "fo-dicom"),
    ("1.2.826.0.1.3680043.2.135.1066.101", "1.5.0/WIN32", "Conquest DICOM server"),
    ("1.2.840.113619.6.374", "", "GE device or PACS"),
    ("1.3.12.2.1107.5.2", "", "Siemens device or syngo"),
    ("1.2.276.0.7230010.3.0.3.6.4", "OSIRIX", "OsiriX"),
])
def test_fingerprint_table(uid, version, product):
    assert fingerprint(uid, version)["product"] == product


def test_fingerprint_unknown():
    assert fingerprint("9.9.9", "WHATEVER")["confidence"] == "none"


@pytest.mark.parametrize("service,status,code", [
    ("move", 0xA801, "move-destination-unknown"), ("find", 0xA700, "dimse-failure-a700"),
    ("get", 0xA702, "dimse-failure-a702"), ("find", 0xA900, "dimse-failure-a900"),
    ("store", 0xC123, "dimse-failure-c123"), ("store", 0x0122, "dimse-failure-0122"),
    ("move", 0x0211, "dimse-failure-0211"), ("store", 0x0124, "dimse-failure-0124"),
    ("store", 0xB000, "dimse-warning-b000"), ("store", 0xB007, "dimse-warning-b007"),
    ("store", 0x0110, "dimse-failure-0110"), ("find", 0xA7FE, "dimse-failure-a7fe"),
])
def test_describe_status(service, status, code):
    meaning, diagnosis = describe_status(service, status, local_ae="PACSCONSOLE",
                                         addresses=("10.0.0.5",), port=11121)
    assert meaning and diagnosis.code == code
    if status == 0xA801:
        assert "10.0.0.5" in diagnosis.actions[0] and "11121" in diagnosis.actions[0]


@pytest.mark.parametrize("status", [0x0000, 0xFF00, 0xFF01, 0xFE00])
def test_describe_status_without_diagnosis(status):
    meaning, diagnosis = describe_status("find", status)
    assert meaning and diagnosis is None


def test_target_from_node_with_tls_fields():
    from pacs_console.core.settings import Settings

    node = NodeRecord(1, "PACS", "MAINPACS", "10.1.1.1", 104)
    target = Target.from_node(node, Settings(ae_title="LAPTOP", acse_timeout=7))
    assert target.label == "MAINPACS@10.1.1.1:104" and target.calling_ae == "LAPTOP"
    assert target.timeouts.acse == 7 and target.tls is None

    class TlsNode:
        host, port, ae_title = "pacs", 2762, "SECURE"
        tls, tls_ca_file, tls_server_name = True, "/ca.pem", "pacs.hospital"

    secure = Target.from_node(TlsNode(), None)
    assert secure.tls.ca_file == "/ca.pem" and secure.tls.server_name == "pacs.hospital"
