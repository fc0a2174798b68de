"""DNS-SD over multicast on loopback: an announced node is found, probed and its AE title used."""

from __future__ import annotations

import socket

import pytest
from zeroconf import IPVersion, ServiceInfo, Zeroconf

from pacs_console.core.discovery import models as m
from pacs_console.core.discovery.dnssd import browse
from pacs_console.core.discovery.sweep import sweep
from pacs_console.core.discovery.targets import parse_targets
from tests.core.discovery.lab import DCMTK_PORT, pynetdicom_scp
from tests.peers.net import addr

HOST, PORT, AET = addr(48), 2000, "HIDDEN_AE_7"  # a port outside the sweep, an unlisted AE
WEB_HOST = addr(249)  # announced only, outside the targets


@pytest.fixture(scope="module")
def announced_scp():
    server = pynetdicom_scp(AET, HOST, PORT, check_called=True)
    zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
    infos = [
        ServiceInfo("_dicom._tcp.local.", f"Hidden PACS {PORT}._dicom._tcp.local.",
                    addresses=[socket.inet_aton(HOST)], port=PORT,
                    properties={"AET": AET, "PrimaryDeviceType": "ARCHIVE"},
                    server="hidden-pacs.local."),
        ServiceInfo("_dicomweb._tcp.local.", "Hidden web._dicomweb._tcp.local.",
                    addresses=[socket.inet_aton(WEB_HOST)], port=8080,
                    properties={"path": "/dicom-web"}, server="hidden-web.local."),
    ]
    for info in infos:
        zc.register_service(info, cooperating_responders=True)
    yield
    for info in infos:
        zc.unregister_service(info)
    zc.close()
    server.shutdown()


def test_browse_lists_instances_with_their_txt(announced_scp):
    found = {(a.service_type, a.host, a.port): a for a in browse(1.5, ["127.0.0.1"])}
    dicom = found[("_dicom._tcp", HOST, PORT)]
    assert dicom.ae_title == AET and dicom.txt["PrimaryDeviceType"] == "ARCHIVE"
    assert dicom.instance == f"Hidden PACS {PORT}"
    assert found[("_dicomweb._tcp", WEB_HOST, 8080)].txt["path"] == "/dicom-web"


def test_sweep_probes_announced_ports_and_uses_the_announced_title(announced_scp):
    generator = sweep(parse_targets(HOST), m.SweepOptions(
        ports=(DCMTK_PORT,), web_ports=(), rate=2000, timeout=1.0, dns_sd=True, dns_sd_seconds=1.5))
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        result = stop.value
    assert any(a.ae_title == AET for a in result.announcements)
    (node,) = result.findings
    assert (node.port, node.verdict, node.ae_title, node.ae_source) == (
        PORT, m.CHECKS_AE, AET, "announced")
    # The web announcement is for a host outside the targets: listed, never probed.
    assert any(a.host == WEB_HOST for a in result.announcements)
