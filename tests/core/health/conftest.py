"""A second Orthanc, the disaster-recovery copy of the session Orthanc (the primary)."""

from __future__ import annotations

import pytest

from tests.peers.net import addr, free_ports
from tests.peers.orthanc import OrthancPeer
from tests.peers.plugin import KNOWN_PEERS


@pytest.fixture(scope="module")
def dr_orthanc():
    host = addr(21)
    dicom, http = free_ports(host, 2)
    peer = OrthancPeer("ORTHANCDR", host, dicom, http, modalities=KNOWN_PEERS)
    peer.start()
    try:
        peer.clear()
        yield peer
    finally:
        peer.stop()
