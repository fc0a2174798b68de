"""Pytest fixtures for real DICOM peers (Orthanc and DCMTK), each on its own loopback address."""

from __future__ import annotations

import pytest

from tests.peers.dcmtk import DcmqrscpPeer, StorescpPeer, WlmscpfsPeer
from tests.peers.net import addr, free_port, session_port
from tests.peers.orthanc import OrthancPeer

# The AE title the tests call from, and the tests' own C-MOVE destination (a pynetdicom SCP
# that a test starts itself). Every peer knows both, so C-FIND and C-MOVE are allowed.
# Addresses come from this session's random loopback network and ports from the OS (see
# tests/peers/net.py), so two sessions on one machine never collide.
SCU_AET = "PACSCONSOLE"
MOVE_DEST_AET = "TESTSTORE"
MOVE_DEST_HOST = "127.0.0.1"
MOVE_DEST_PORT = session_port("MOVE_DEST", MOVE_DEST_HOST)
# Peers need some port for the SCU; nothing listens there, it only satisfies their config.
SCU_PORT = session_port("SCU", MOVE_DEST_HOST)

KNOWN_PEERS = {
    SCU_AET: (MOVE_DEST_HOST, SCU_PORT),
    MOVE_DEST_AET: (MOVE_DEST_HOST, MOVE_DEST_PORT),
}

ORTHANC_AET, ORTHANC_HOST = "ORTHANC", addr(11)
ORTHANC_DICOM_PORT = session_port("ORTHANC_DICOM", ORTHANC_HOST)
ORTHANC_HTTP_PORT = session_port("ORTHANC_HTTP", ORTHANC_HOST)
DCMQRSCP_AET, DCMQRSCP_HOST = "DCMQRSCP", addr(12)
DCMQRSCP_PORT = session_port("DCMQRSCP", DCMQRSCP_HOST)
STORESCP_AET, STORESCP_HOST = "STORESCP", addr(13)
STORESCP_PORT = session_port("STORESCP", STORESCP_HOST)
WLMSCPFS_AET, WLMSCPFS_HOST = "WLMSCPFS", addr(14)
WLMSCPFS_PORT = session_port("WLMSCPFS", WLMSCPFS_HOST)


def peer_running(peer):
    """For a fixture: ``yield from peer_running(SomePeer(...))`` starts the peer, yields it and
    stops it however the tests that used it ended."""
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="session")
def orthanc_peer():
    """Orthanc ORTHANC on addr(11), DICOM and REST/DICOMweb on session ports."""
    yield from peer_running(
        OrthancPeer(
            ORTHANC_AET, ORTHANC_HOST, ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT, modalities=KNOWN_PEERS
        )
    )


@pytest.fixture(scope="session")
def dcmqrscp_peer():
    """DCMTK dcmqrscp DCMQRSCP on addr(12), a session port."""
    yield from peer_running(
        DcmqrscpPeer(DCMQRSCP_AET, DCMQRSCP_HOST, DCMQRSCP_PORT, hosts=KNOWN_PEERS)
    )


@pytest.fixture(scope="session")
def storescp_peer():
    """DCMTK storescp STORESCP on addr(13), a session port."""
    yield from peer_running(StorescpPeer(STORESCP_AET, STORESCP_HOST, STORESCP_PORT))


@pytest.fixture(scope="session")
def wlmscpfs_peer():
    """DCMTK wlmscpfs WLMSCPFS on addr(14) with DCMTK's ten example worklist items."""
    yield from peer_running(WlmscpfsPeer(WLMSCPFS_AET, WLMSCPFS_HOST, WLMSCPFS_PORT))


@pytest.fixture(scope="module")
def plain_storescp():
    """DCMTK storescp PLAINSTORE with its default transfer syntaxes (uncompressed only, no
    deflate): a destination the console and the demo PACS must convert for. One per test
    module, on addr(23) and a free port."""
    host = addr(23)
    yield from peer_running(StorescpPeer("PLAINSTORE", host, free_port(host), accept_all=False))


def _cleared(name: str, doc: str):
    """The fixture NAME: the session fixture NAME_peer, cleared (``peer.clear()``) for each test."""
    @pytest.fixture(name=name)
    def fixture(request):
        peer = request.getfixturevalue(f"{name}_peer")
        peer.clear()
        return peer

    fixture.__doc__ = doc
    return fixture


orthanc = _cleared("orthanc", "The session Orthanc, emptied for this test.")
dcmqrscp = _cleared("dcmqrscp", "The session dcmqrscp, emptied for this test.")
storescp = _cleared("storescp", "The session storescp, its output directory emptied for this test.")
wlmscpfs = _cleared("wlmscpfs",
                    "The session worklist SCP (its items are read-only, nothing to reset).")


@pytest.fixture(scope="module")
def console_scp(tmp_path_factory):
    """The console's own StorageSCP as TESTSTORE, the move destination every peer knows."""
    from pacs_console.core.dicom.servers.storage import StorageSCP
    from pacs_console.core.dicom.wire.params import Timeouts

    scp = StorageSCP(tmp_path_factory.mktemp("store"), MOVE_DEST_AET, MOVE_DEST_PORT,
                     host=MOVE_DEST_HOST,
                     timeouts=Timeouts(connect=3, acse=5, dimse=15, network=30)).start()
    yield scp
    scp.stop()


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
