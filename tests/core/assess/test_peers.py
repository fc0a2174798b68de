"""Every finding class comes from at least one real peer configured insecurely, and none comes
from the same kind of peer configured securely (no false positives)."""

from __future__ import annotations

import contextlib
import re
import subprocess

import pytest

from pacs_console.core.assess.catalog import CHECKS
from pacs_console.core.assess.model import AssessOptions, Service
from pacs_console.core.assess.runner import run_assessment
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.core.dicom.synth.studies import generate_study, write_study
from pacs_console.core.hl7.listener import Hl7Listener, ListenerOptions
from tests.core.assess.peers import (
    STRONG_PASSWORD,
    CheckingDcmqrscp,
    ConfiguredOrthanc,
    OldTlsServer,
    make_certs,
    tls_orthanc,
)
from tests.core.dicom_ops.helpers import drain
from tests.peers.dcmtk import DcmqrscpPeer, StorescpPeer
from tests.peers.net import addr, free_port
from tests.peers.tlsproxy import TcpFront
from tests.pki import https_dicomweb

OPTIONS = AssessOptions(allow_store_test=True, allow_hl7_test=True, timeout=3.0, interval=0.02)
OPEN_ORTHANC = {"DicomCheckCalledAet": False}
SECURE_ORTHANC = {"AuthenticationEnabled": True, "RegisteredUsers": {"admin": STRONG_PASSWORD},
                  "DicomCheckCalledAet": True, "DicomAlwaysAllowEcho": False,
                  "DicomAlwaysAllowStore": False, "DicomCheckModalityHost": True}
# What a secure node may still show: the release it runs (its age is a follow-up, low at most).
SOFTWARE = {"software-old", "software-identified"}


def _ports(host: str, n: int) -> list[int]:
    return [free_port(host) for _ in range(n)]


def _store_one(host: str, port: int, aet: str, folder) -> None:
    paths = write_study(generate_study("CR", images=1, series=1, size=64), folder)
    subprocess.run(["/usr/bin/storescu", "-aec", aet, host, str(port), str(paths[0])],
                   check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(insecure hosts, secure hosts): host -> [Service]; every peer stopped afterwards."""
    folder = tmp_path_factory.mktemp("assess")
    started, insecure, secure = [], {}, {}
    stack = contextlib.ExitStack()

    def start(peer):
        peer.start()
        started.append(peer)
        return peer

    try:
        # Orthanc: auth off, any called AE, plain DICOM, default title.
        h = addr(101)
        d, w = _ports(h, 2)
        start(ConfiguredOrthanc("ORTHANC", h, d, w, OPEN_ORTHANC))
        insecure[h] = [Service(h, d, "dicom"), Service(h, w, "http")]
        # Orthanc: default credentials; DICOM TLS with a self-signed certificate.
        h = addr(102)
        certs = make_certs(folder, h)
        d, w = _ports(h, 2)
        start(tls_orthanc("ARCH-102", h, d, w, certs["selfsigned"], certs["ca"],
                          AuthenticationEnabled=True, RegisteredUsers={"orthanc": "orthanc"}))
        insecure[h] = [Service(h, d, "probe"), Service(h, w, "http")]
        # DICOM TLS: expired, wrong host name, RSA 1024 expiring in 10 days.
        for n, label in ((103, "expired"), (104, "wronghost"), (105, "weakkey")):
            h = addr(n)
            certs = make_certs(folder, h)
            d, w = _ports(h, 2)
            start(tls_orthanc(f"ARCH-{n}", h, d, w, certs[label], certs["ca"], **SECURE_ORTHANC))
            insecure[h] = [Service(h, d, "dicom-tls", ae_title=f"ARCH-{n}")]
        # dcmqrscp answering anyone, with one study; storescp accepting anything.
        h = addr(106)
        (d,) = _ports(h, 1)
        start(DcmqrscpPeer("DCMQRSCP", h, d))
        _store_one(h, d, "DCMQRSCP", folder / "study")
        insecure[h] = [Service(h, d, "dicom", ae_title="DCMQRSCP")]
        h = addr(107)
        (d,) = _ports(h, 1)
        start(StorescpPeer("STORESCP", h, d))
        insecure[h] = [Service(h, d, "dicom", ae_title="STORESCP")]
        # A pynetdicom archive that resolves any move destination (to an address never given).
        h = addr(108)
        sink = free_port(h)
        demo = DemoPacs("PACS-108", h, 0, studies=[], worklist=[],
                        resolve_destination=lambda ae: (h, sink)).start()
        started.append(demo)
        insecure[h] = [Service(h, demo.port, "dicom", ae_title="PACS-108")]
        # The console's HL7 listener: plain, acknowledging anything.
        h = addr(109)
        listener = Hl7Listener(0, host=h).start()
        started.append(listener)
        insecure[h] = [Service(h, listener.port, "hl7")]
        # TLS 1.0 with a weak cipher.
        h = addr(110)
        certs = make_certs(folder, h)
        (p,) = _ports(h, 1)
        started.append(OldTlsServer(h, p, certs["weakkey"]).start())  # AES128-SHA needs RSA
        insecure[h] = [Service(h, p, "hl7")]
        # DICOMweb over HTTPS with an expired certificate, answering QIDO to anyone.
        certs = make_certs(folder, "127.0.0.1")
        url = stack.enter_context(https_dicomweb(certs["expired"]))
        web_port = int(url.split(":")[2].split("/")[0])
        insecure["127.0.0.1"] = [Service("127.0.0.1", web_port, "https", dicomweb_url=url)]

        # Secure: Orthanc with a strong password, AE checks, DICOM TLS with a valid certificate,
        # its REST API behind a TLS-terminating reverse proxy (Orthanc 1.10.1 cannot serve
        # HTTPS here, see tests/pki.py). Orthanc itself listens on an address the site does not
        # use (as a server's localhost would be); the node's address has only the fronts.
        h, inside = addr(121), addr(221)
        certs = make_certs(folder, h)
        d, w = _ports(inside, 2)
        start(tls_orthanc("HOSP-ARCH-7X", inside, d, w, certs["good"], certs["ca"],
                          **SECURE_ORTHANC))
        dicom_front = TcpFront(h, (inside, d)).start()  # DICOM TLS passed through
        https_front = TcpFront(h, (inside, w), cert=certs["good"]).start()
        started.extend((dicom_front, https_front))
        secure[h] = [Service(h, dicom_front.port, "probe"), Service(h, https_front.port, "https")]
        # dcmqrscp serving only its HostTable's peers.
        h = addr(122)
        (d,) = _ports(h, 1)
        start(CheckingDcmqrscp("HOSP-QR-22", h, d, hosts={"PACSCONSOLE": (addr(200), 104)}))
        secure[h] = [Service(h, d, "dicom", ae_title="HOSP-QR-22")]
        # HL7 over TLS with a valid certificate, refusing what it does not know.
        h = addr(123)
        certs = make_certs(folder, h)
        listener = Hl7Listener(0, host=h, options=ListenerOptions(answer="AR"),
                               cert_file=certs["good"][0], key_file=certs["good"][1]).start()
        started.append(listener)
        secure[h] = [Service(h, listener.port, "hl7")]
        yield insecure, secure
    finally:
        stack.close()
        for peer in reversed(started):
            peer.stop()


def _assess(hosts):
    return _drain(run_assessment(hosts, OPTIONS, hl7_ports=()))


def _drain(generator):
    return drain(generator)[1]


def test_every_finding_class_from_an_insecure_peer_and_none_from_a_secure_one(lab):
    insecure, secure = lab
    bad = _assess(insecure)
    found = {f.check for f in bad.findings}
    assert found == set(CHECKS), f"missing: {set(CHECKS) - found}"
    by_host = {n.host: {f.check for f in n.findings} for n in bad.nodes}
    assert {"orthanc-auth-off", "dicom-any-called-ae", "dicom-no-tls", "dicom-default-ae",
            "dicomweb-open", "dicom-store-open"} <= by_host[addr(101)]
    assert {"dicom-store-open", "dicom-any-calling-ae"} <= by_host[addr(107)]
    assert {"orthanc-default-credentials", "tls-self-signed"} <= by_host[addr(102)]
    assert "tls-expired" in by_host[addr(103)] and "tls-wrong-host" in by_host[addr(104)]
    assert {"tls-weak-key", "tls-expiring"} <= by_host[addr(105)]
    assert "dicom-find-open" in by_host[addr(106)]
    # Orthanc Explorer: open without authentication, behind a login with it; the DICOMweb
    # server answering every path with JSON is no administration page.
    assert "admin-page-open" in by_host[addr(101)] and "admin-page-login" in by_host[addr(102)]
    assert not {"admin-page-open", "admin-page-login"} & by_host["127.0.0.1"]
    assert "dicom-move-anywhere" in by_host[addr(108)]
    assert {"hl7-open", "hl7-no-tls"} <= by_host[addr(109)]
    assert {"tls-old-protocol", "tls-weak-cipher"} <= by_host[addr(110)]
    assert {"tls-expired", "dicomweb-open"} <= by_host["127.0.0.1"]
    assert "http-no-tls" not in by_host["127.0.0.1"]
    assert bad.above_low and bad.score < 50

    good = _assess(secure)
    for node in good.nodes:
        allowed = SOFTWARE | {"admin-page-login"}  # an admin UI behind a login over HTTPS
        if node.host == addr(122):  # secure access control; dcmqrscp here has no TLS to offer
            allowed |= {"dicom-no-tls"}
        assert {f.check for f in node.findings} <= allowed, (node.host, node.findings)
    # Each secure service was really assessed, not skipped for being unreachable.
    kinds = {(s.host, s.kind) for n in good.nodes for s in n.services}
    assert (addr(121), "dicom-tls") in kinds and (addr(123), "hl7") in kinds
    assert (addr(121), "https") in kinds
    # Orthanc answered through the HTTPS front and asked for credentials: no web finding.
    assert not any(f.check.startswith("orthanc-") or f.check == "http-no-tls"
                   for f in good.findings)
    login = next(f for f in good.findings if f.check == "admin-page-login")
    assert login.severity == "info" and "https://" in login.evidence and "401" in login.evidence
    # Plain HTTP is still reported where it is served.
    assert "http-no-tls" in by_host[addr(101)] and "http-no-tls" in by_host[addr(102)]


def test_findings_carry_evidence_and_remedy_and_no_patient_data(lab):
    insecure, _ = lab
    generator = run_assessment({addr(106): insecure[addr(106)]},
                               AssessOptions(timeout=3.0, interval=0.02), hl7_ports=())
    result = _drain(generator)
    find = next(f for f in result.findings if f.check == "dicom-find-open")
    studies = int(re.search(r"answered with (\d+) studies", find.evidence).group(1))
    assert studies >= 1 and "content discarded" in find.evidence
    # Without --allow-store-test nothing is stored, and the report says it was not tested.
    assert "dicom-store-open" not in {f.check for f in result.findings}
    assert any(t.check == "dicom-store-open" and "--allow-store-test" in t.reason
               for t in result.not_tested)
    assert find.severity == "critical" and find.remedy
    text = repr(result.to_dict())
    assert "PatientName" not in text and "^" not in find.evidence
