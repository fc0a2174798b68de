"""C-MOVE to an AE nobody configured: what is really observable. A node that refuses the
unknown destination answers 0xA801; a node that resolves the title anyway opens a
sub-association somewhere, and when that is this console (the requester's address, as 'any AE
to the requester' archives do) the assessment's listener sees it, refuses it, and flags the
node. A node that routes the title to a third address it cannot reach counts failed
sub-operations (0xA702), which a refusal never has: that is flagged too, from the answer alone
(an in-process router, and real dcmqrscp with a stale HostTable entry). Real Orthanc (also with
DicomAlwaysAllowMove) and dcmqrscp refuse: no finding."""

from __future__ import annotations

import pytest

from pacs_console.core.assess.model import AssessOptions, Service
from pacs_console.core.assess.runner import run_assessment
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.synth.studies import generate_study, write_study
from tests.core.assess.peers import ConfiguredOrthanc
from tests.core.assess.routing_scp import STUDY_UID, RoutingArchive
from tests.core.assess.test_peers import _store_one
from tests.core.dicom_ops.helpers import drain
from tests.peers.dcmtk import DcmqrscpPeer
from tests.peers.net import addr, free_port

CONSOLE = "127.0.0.1"  # where this console is seen from on loopback (the listener's address)


def _assess(hosts, listen_port: int, allow_move_test: bool = True):
    options = AssessOptions(families=("dicom",), allow_move_test=allow_move_test,
                            move_listen_port=listen_port, timeout=3.0, interval=0.02)
    return drain(run_assessment(hosts, options, hl7_ports=()))[1]


def _move_findings(result, host):
    return [f for f in result.findings if f.host == host and f.check == "dicom-move-anywhere"]


@pytest.fixture
def requester_port():
    """The port this console's move listener takes (the Storage SCP port of Settings in the
    field; here one the OS had free)."""
    return free_port(CONSOLE)


def test_a_node_that_sends_an_unknown_ae_to_the_requester_is_seen_and_refused(requester_port):
    # An archive configured to send any unknown AE's images to the requesting address on the
    # port it knows for that address: a real (mis)configuration of 'any AE' archives.
    host = addr(131)
    study = generate_study("CT", images=2, series=1, size=64)
    demo = DemoPacs("PACS-131", host, 0, studies=study, worklist=[],
                    resolve_destination=lambda ae: (CONSOLE, requester_port)).start()
    try:
        result = _assess({host: [Service(host, demo.port, "dicom", ae_title="PACS-131")]},
                         requester_port)
    finally:
        demo.stop()
    (finding,) = _move_findings(result, host)
    assert "opened an association (called AE 'PCA-NO-SUCH-DEST'" in finding.evidence
    assert f"listener {CONSOLE}:{requester_port}" in finding.evidence
    assert "refused" in finding.evidence and "no image received" in finding.evidence
    assert finding.severity == "high"
    assert study[0].StudyInstanceUID not in repr(result.to_dict())  # the UID is never kept


def test_without_the_opt_in_nothing_existing_is_moved_and_the_answer_is_judged(requester_port):
    host = addr(132)
    demo = DemoPacs("PACS-132", host, 0,
                    studies=generate_study("CT", images=1, series=1, size=64), worklist=[],
                    resolve_destination=lambda ae: (CONSOLE, requester_port)).start()
    try:
        result = _assess({host: [Service(host, demo.port, "dicom", ae_title="PACS-132")]},
                         requester_port, allow_move_test=False)
    finally:
        demo.stop()
    (finding,) = _move_findings(result, host)
    # A random study matches nothing, so nothing is sent (no sub-association reached the
    # listener); the node's answer still shows it accepted the unknown title.
    assert "a study that does not exist" in finding.evidence and "0x0000" in finding.evidence
    assert "opened an association" not in finding.evidence


def test_orthanc_and_dcmqrscp_refuse_the_unknown_destination(tmp_path, requester_port):
    hosts, peers = {}, []
    try:
        for n, extra in ((133, {}), (134, {"DicomAlwaysAllowMove": True})):
            h = addr(n)
            d, w = free_port(h), free_port(h)
            peer = ConfiguredOrthanc(f"ARCH-{n}", h, d, w, {
                "DicomModalities": {"console": ["PACSCONSOLE", CONSOLE, requester_port]},
                **extra})
            peer.start()
            peers.append(peer)
            paths = write_study(generate_study("CR", images=1, series=1, size=64),
                                tmp_path / str(n))
            peer.upload(paths[0])
            hosts[h] = [Service(h, d, "dicom", ae_title=f"ARCH-{n}")]
        h = addr(135)
        d = free_port(h)
        qr = DcmqrscpPeer("QR-135", h, d, hosts={"PACSCONSOLE": (CONSOLE, requester_port)})
        qr.start()
        peers.append(qr)
        _store_one(h, d, "QR-135", tmp_path / "qr")
        hosts[h] = [Service(h, d, "dicom", ae_title="QR-135")]
        result = _assess(hosts, requester_port)
    finally:
        for peer in peers:
            peer.stop()
    for host in hosts:
        assert not _move_findings(result, host), result.findings
        # Really asked (an existing study), not skipped: nothing about the move is untested.
        assert not [t for t in result.not_tested
                    if t.host == host and t.check == "dicom-move-anywhere"], result.not_tested


def test_a_node_that_routes_the_unknown_ae_to_an_address_it_cannot_reach(requester_port):
    # Every destination AE goes to a third address where nothing listens: the node does not
    # refuse the title (no 0xA801), it tries, and every sub-operation fails (0xA702).
    host, third = addr(136), addr(137)
    archive = RoutingArchive(host, (third, free_port(third)))
    try:
        result = _assess({host: [Service(host, archive.port, "dicom", ae_title="ROUTER")]},
                         requester_port)
    finally:
        archive.close()
    assert [(ae, reached) for ae, _, reached in archive.attempts] == [
        ("PCA-NO-SUCH-DEST", False)]  # it really tried the third address
    (finding,) = _move_findings(result, host)
    assert "0xA702 with 1 failed sub-operation(s)" in finding.evidence
    assert "did not refuse the unknown destination" in finding.evidence
    assert "some other address" in finding.evidence
    assert f"listener {CONSOLE}:{requester_port} heard nothing" in finding.evidence
    assert STUDY_UID not in repr(result.to_dict())  # the study found is never kept



def test_dcmqrscp_routing_the_title_to_an_unreachable_address_is_told_from_a_refusal(
        tmp_path, requester_port):
    # Real DCMTK with the title in its HostTable pointing at a dead address (a stale entry, or
    # a catch-all someone added): it answers 0xA702 with a failed sub-operation, not 0xA801.
    host, third = addr(140), addr(141)
    port = free_port(host)
    qr = DcmqrscpPeer("QR-140", host, port,
                      hosts={"PCA-NO-SUCH-DEST": (third, free_port(third))})
    qr.start()
    try:
        _store_one(host, port, "QR-140", tmp_path)
        result = _assess({host: [Service(host, port, "dicom", ae_title="QR-140")]},
                         requester_port)
    finally:
        qr.stop()
    (finding,) = _move_findings(result, host)
    assert "0xA702 with 1 failed sub-operation(s)" in finding.evidence
    assert "tried to send the images there" in finding.evidence
