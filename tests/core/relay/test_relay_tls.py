"""TLS on the PACS side: the modality talks plain DICOM to the relay, the relay speaks TLS to
the PACS (a pynetdicom SCP with certificates made here); an untrusted PACS is diagnosed."""

from __future__ import annotations

import ssl
import subprocess

import pytest
from pynetdicom.sop_class import Verification

from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.tls import TlsConfig
from pacs_console.core.relay.server import Relay, RelayConfig
from tests.core.relay.support import wait_for
from tests.pki import make_pki

QUICK = Timeouts(connect=2, acse=3, dimse=5, network=10)


@pytest.fixture(scope="module")
def tls_pacs(tmp_path_factory):
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*pki["good"])
    server = make_ae("TLSPACS", QUICK, supported=[Verification]).serve(("127.0.0.1", 0),
                                                                       ssl_context=context)
    yield pki, server.server_address[1]
    server.shutdown()


def _through(port: int, secure: TlsConfig) -> tuple[int, dict]:
    ended: list[dict] = []
    relay = Relay(RelayConfig("127.0.0.1", 0, "127.0.0.1", port, upstream_tls=secure),
                  on_end=lambda _i, report: ended.append(report))
    relay.start()
    try:
        done = subprocess.run(["/usr/bin/echoscu", "-aet", "CTSCANNER", "-aec", "TLSPACS",
                               "127.0.0.1", str(relay.address[1]), "-to", "5", "-ta", "5"],
                              capture_output=True, timeout=30)
        [report] = wait_for(ended)
    finally:
        relay.stop()
    return done.returncode, report


def test_plain_modality_to_a_tls_pacs(tls_pacs):
    pki, port = tls_pacs
    code, report = _through(port, TlsConfig(ca_file=pki["ca"]))
    assert code == 0
    assert (report["calling_ae"], report["result"]) == ("CTSCANNER", "released")
    assert [(m["command"], m["status"]) for m in report["messages"]] == [("C-ECHO-RQ", "0x0000")]


def test_an_untrusted_pacs_certificate_is_diagnosed(tls_pacs):
    _, port = tls_pacs
    code, report = _through(port, TlsConfig())
    assert code != 0
    assert report["result"] == "PACS TLS failed"
    assert [d["code"] for d in report["diagnosis"]] == ["tls-untrusted-certificate"]
    assert "--ca-file" in report["diagnosis"][0]["actions"][0]
