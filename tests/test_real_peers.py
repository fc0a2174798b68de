"""Smoke tests against real Orthanc and DCMTK peers on loopback, through the project's AE factory."""

from __future__ import annotations

import socket

import pytest
from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.sop_class import (
    CTImageStorage,
    ModalityWorklistInformationFind,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from pacs_console.core.dicom.wire.ae import Timeouts, make_ae
from tests.dicom_samples import ct_series, to_bytes
from tests.peers.plugin import MOVE_DEST_AET, MOVE_DEST_HOST, MOVE_DEST_PORT, SCU_AET
from tests.peers.process import check_port_free
from tests.receiving import Received

pytestmark = pytest.mark.peers

QUICK = Timeouts(connect=3, acse=5, dimse=15, network=15)
PEERS = ["orthanc", "dcmqrscp", "storescp", "wlmscpfs"]
ARCHIVES = ["orthanc", "dcmqrscp"]


class StoreSink(Received):
    """A pynetdicom Storage SCP (TESTSTORE) the peers C-MOVE into; collects what arrives."""

    def __init__(self) -> None:
        super().__init__()
        # pynetdicom does not check the called AE, so one SCP also serves "LATESTORE" below.
        self.ae = make_ae(MOVE_DEST_AET, QUICK, supported=[CTImageStorage])
        check_port_free(MOVE_DEST_HOST, MOVE_DEST_PORT)
        self.server = self.ae.serve(
            (MOVE_DEST_HOST, MOVE_DEST_PORT), handlers=[(evt.EVT_C_STORE, self.on_store)]
        )


@pytest.fixture(scope="module")
def sink_server():
    # Module-scoped: pynetdicom's server shutdown polls every 0.5 s, too slow to pay per test.
    sink = StoreSink()
    yield sink
    sink.server.shutdown()


@pytest.fixture
def sink(sink_server):
    sink_server.received.clear()
    return sink_server


def associate(peer, contexts, *, called: str | None = None):
    ae = make_ae(SCU_AET, QUICK, requested=contexts)
    assoc = ae.associate(peer.host, peer.dicom_port, ae_title=called or peer.aet)
    assert assoc.is_established, f"association to {peer!r} failed"
    return assoc


def store(peer, datasets) -> None:
    assoc = associate(peer, [CTImageStorage])
    try:
        for ds in datasets:
            status = assoc.send_c_store(ds)
            assert status and status.Status == 0x0000, f"C-STORE to {peer!r}: {status}"
    finally:
        assoc.release()


def find_studies(peer, **keys) -> list[Dataset]:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = ""
    query.PatientID = ""
    query.StudyDate = ""
    for keyword, value in keys.items():
        setattr(query, keyword, value)
    assoc = associate(peer, [StudyRootQueryRetrieveInformationModelFind])
    matches = []
    try:
        for status, identifier in assoc.send_c_find(
            query, StudyRootQueryRetrieveInformationModelFind
        ):
            assert status, "C-FIND got no response"
            if status.Status in (0xFF00, 0xFF01):
                matches.append(identifier)
            else:
                assert status.Status == 0x0000, f"C-FIND on {peer!r}: 0x{status.Status:04X}"
    finally:
        assoc.release()
    return matches


def move_study(peer, study_uid: str, destination: str = MOVE_DEST_AET) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    assoc = associate(peer, [StudyRootQueryRetrieveInformationModelMove])
    try:
        responses = list(
            assoc.send_c_move(query, destination, StudyRootQueryRetrieveInformationModelMove)
        )
    finally:
        assoc.release()
    final = responses[-1][0]
    assert final.Status == 0x0000, f"C-MOVE from {peer!r}: 0x{final.Status:04X}"
    return final


@pytest.mark.parametrize("name", PEERS)
def test_echo(name, request):
    peer = request.getfixturevalue(name)
    assoc = associate(peer, [Verification])
    try:
        assert assoc.send_c_echo().Status == 0x0000
    finally:
        assoc.release()


@pytest.mark.parametrize("name", PEERS)
def test_peer_listens_only_on_its_own_address(name, request):
    peer = request.getfixturevalue(name)
    socket.create_connection((peer.host, peer.dicom_port), timeout=1).close()
    # Without the bind shim the peer binds 0.0.0.0 and would answer on every 127.x address.
    for other in ("127.0.0.1", "127.0.0.254"):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((other, peer.dicom_port), timeout=1).close()


@pytest.mark.parametrize("name", ARCHIVES)
def test_store_find_move(name, request, sink):
    peer = request.getfixturevalue(name)
    series = ct_series(3)
    study_uid = series[0].StudyInstanceUID
    store(peer, series)

    studies = find_studies(peer)
    assert [s.StudyInstanceUID for s in studies] == [study_uid]
    assert studies[0].PatientID == "PEERTEST1"

    move_study(peer, study_uid)
    assert sorted(ds.SOPInstanceUID for ds in sink.received) == sorted(
        ds.SOPInstanceUID for ds in series
    )
    assert sink.received[0].pixel_array.shape == (8, 8)


@pytest.mark.parametrize("name", ARCHIVES)
def test_clear_empties_the_archive(name, request):
    peer = request.getfixturevalue(name)
    store(peer, ct_series(1))
    assert len(find_studies(peer)) == 1
    peer.clear()
    assert find_studies(peer) == []
    # Still usable after clearing: dcmqrscp must rebuild its index.
    store(peer, ct_series(1))
    assert len(find_studies(peer)) == 1


def test_storescp_writes_what_it_receives(storescp):
    store(storescp, ct_series(2))
    assert len(storescp.files()) == 2


def test_orthanc_rejects_wrong_called_ae(orthanc):
    ae = make_ae(SCU_AET, QUICK, requested=[Verification])
    assoc = ae.associate(orthanc.host, orthanc.dicom_port, ae_title="NOTORTHANC")
    assert assoc.is_rejected
    assert not assoc.is_established


def test_orthanc_rest_upload_and_runtime_modality(orthanc, sink):
    series = ct_series(2)
    for ds in series:
        assert orthanc.upload(to_bytes(ds))["Status"] == "Success"
    assert len(orthanc.rest("GET", "/instances")) == 2
    # A destination declared after start-up, pointing at the same test SCP under another AE.
    orthanc.add_modality("LATESTORE", "LATESTORE", MOVE_DEST_HOST, MOVE_DEST_PORT)
    move_study(orthanc, series[0].StudyInstanceUID, destination="LATESTORE")
    assert len(sink.received) == 2


def test_orthanc_dicomweb_answers(orthanc):
    # install.sh installs orthanc-dicomweb; its absence is a broken setup, not a reason to skip.
    assert "dicom-web" in orthanc.rest("GET", "/plugins")
    orthanc.upload(to_bytes(ct_series(1)[0]))
    studies = orthanc.rest("GET", "/dicom-web/studies")
    assert len(studies) == 1


def test_worklist_answers_the_example_items(wlmscpfs):
    query = Dataset()
    query.PatientName = ""
    query.PatientID = ""
    step = Dataset()
    step.Modality = ""
    step.ScheduledStationAETitle = ""
    query.ScheduledProcedureStepSequence = [step]
    assoc = associate(wlmscpfs, [ModalityWorklistInformationFind])
    try:
        items = [
            ident
            for status, ident in assoc.send_c_find(query, ModalityWorklistInformationFind)
            if status and status.Status in (0xFF00, 0xFF01)
        ]
    finally:
        assoc.release()
    assert len(items) == 10  # DCMTK ships wklist1..10.dump
