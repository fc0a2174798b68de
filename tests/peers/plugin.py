"""Pytest fixtures for real DICOM peers (Orthanc and DCMTK), each on its own loopback address."""

from __future__ import annotations

import pytest

from tests.peers.dcmtk import DcmqrscpPeer, StorescpPeer, WlmscpfsPeer
from tests.peers.orthanc import OrthancPeer

# The AE title the tests call from, and the tests' own C-MOVE destination (a pynetdicom SCP
# that a test starts itself). Every peer knows both, so C-FIND and C-MOVE are allowed.
SCU_AET = "PACSCONSOLE"
MOVE_DEST_AET = "TESTSTORE"
MOVE_DEST_HOST = "127.0.0.1"
MOVE_DEST_PORT = 11113
# Peers need some port for the SCU; nothing listens there, it only satisfies their config.
SCU_PORT = 11114

KNOWN_PEERS = {
    SCU_AET: (MOVE_DEST_HOST, SCU_PORT),
    MOVE_DEST_AET: (MOVE_DEST_HOST, MOVE_DEST_PORT),
}

ORTHANC_AET, ORTHANC_HOST, ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT = (
    "ORTHANC",
    "127.0.0.11",
    4242,
    8042,
)
DCMQRSCP_AET, DCMQRSCP_HOST, DCMQRSCP_PORT = "DCMQRSCP", "127.0.0.12", 11112
STORESCP_AET, STORESCP_HOST, STORESCP_PORT = "STORESCP", "127.0.0.13", 11112
WLMSCPFS_AET, WLMSCPFS_HOST, WLMSCPFS_PORT = "WLMSCPFS", "127.0.0.14", 11112


def _session_peer(peer):
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="session")
def orthanc_peer():
    """Orthanc ORTHANC on 127.0.0.11:4242, REST/DICOMweb on http://127.0.0.11:8042."""
    yield from _session_peer(
        OrthancPeer(
            ORTHANC_AET, ORTHANC_HOST, ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT, modalities=KNOWN_PEERS
        )
    )


@pytest.fixture(scope="session")
def dcmqrscp_peer():
    """DCMTK dcmqrscp DCMQRSCP on 127.0.0.12:11112."""
    yield from _session_peer(
        DcmqrscpPeer(DCMQRSCP_AET, DCMQRSCP_HOST, DCMQRSCP_PORT, hosts=KNOWN_PEERS)
    )


@pytest.fixture(scope="session")
def storescp_peer():
    """DCMTK storescp STORESCP on 127.0.0.13:11112."""
    yield from _session_peer(StorescpPeer(STORESCP_AET, STORESCP_HOST, STORESCP_PORT))


@pytest.fixture(scope="session")
def wlmscpfs_peer():
    """DCMTK wlmscpfs WLMSCPFS on 127.0.0.14:11112 with DCMTK's ten example worklist items."""
    yield from _session_peer(WlmscpfsPeer(WLMSCPFS_AET, WLMSCPFS_HOST, WLMSCPFS_PORT))


@pytest.fixture
def orthanc(orthanc_peer):
    """The session Orthanc, emptied for this test."""
    orthanc_peer.clear()
    return orthanc_peer


@pytest.fixture
def dcmqrscp(dcmqrscp_peer):
    """The session dcmqrscp, emptied for this test."""
    dcmqrscp_peer.clear()
    return dcmqrscp_peer


@pytest.fixture
def storescp(storescp_peer):
    """The session storescp, its output directory emptied for this test."""
    storescp_peer.clear()
    return storescp_peer


@pytest.fixture
def wlmscpfs(wlmscpfs_peer):
    """The session worklist SCP (its items are read-only, nothing to reset)."""
    wlmscpfs_peer.clear()
    return wlmscpfs_peer


@pytest.fixture(scope="session")
def rt_peer():
    """Request Tracker 5 on http://127.0.0.1:<a free port>, a fresh SQLite database per session:
    queue 'PACS Field' with custom fields IdempotencyKey and DeviceTime, API user
    'pacsconsole' (``.token``) and a superuser 'office' (``.office_token``)."""
    from tests.peers.rt import RequestTracker

    peer = RequestTracker()
    try:
        peer.start()
        yield peer
    finally:
        peer.remove()
