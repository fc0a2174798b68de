"""DICOM over TLS: a pynetdicom SCP with certificates made here; trust, host name, success."""

from __future__ import annotations

import ssl

import pytest
from pynetdicom.sop_class import Verification

from pacs_console.core.dicom.ops.echo import echo_target
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.dicom.wire.params import Timeouts
from pacs_console.core.dicom.wire.target import Target
from pacs_console.core.dicom.wire.tls import TlsConfig
from tests.pki import make_pki

QUICK = Timeouts(connect=2, acse=3, dimse=5, network=10)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_scps(pki):
    """One TLS Verification SCP per server certificate: label -> port."""
    servers, ports = [], {}
    for label in ("good", "othername", "expired"):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*pki[label])
        ae = make_ae("TLSPACS", QUICK, supported=[Verification])
        server = ae.serve(("127.0.0.1", 0), ssl_context=context)
        servers.append(server)
        ports[label] = server.server_address[1]
    plain = make_ae("PLAINPACS", QUICK, supported=[Verification]).serve(("127.0.0.1", 0))
    servers.append(plain)
    ports["plain"] = plain.server_address[1]
    yield ports
    for server in servers:
        server.shutdown()


def _target(port, **tls) -> Target:
    return Target("127.0.0.1", port, "TLSPACS", timeouts=QUICK, tls=TlsConfig(**tls))


def test_tls_echo_succeeds_with_the_right_ca(pki, tls_scps):
    result = echo_target(_target(tls_scps["good"], ca_file=pki["ca"]))
    assert result.ok, result.diagnosis
    assert result.tls_ms > 0
    assert result.association["tls"]["protocol"].startswith("TLSv1.")
    assert "Test Hospital CA" in result.association["tls"]["peer_issuer"]


def test_tls_host_name_from_server_name(pki, tls_scps):
    result = echo_target(_target(tls_scps["good"], ca_file=pki["ca"],
                                 server_name="pacs.hospital.test"))
    assert result.ok, result.diagnosis


def test_untrusted_certificate(tls_scps):
    result = echo_target(_target(tls_scps["good"]))  # system trust store: our CA is unknown
    assert result.diagnosis.code == "tls-untrusted-certificate"
    assert "CA" in " ".join(result.diagnosis.actions)


def test_wrong_host_name(pki, tls_scps):
    result = echo_target(_target(tls_scps["othername"], ca_file=pki["ca"]))
    assert result.diagnosis.code == "tls-wrong-host-name"
    assert "127.0.0.1" in result.diagnosis.what


def test_expired_certificate(pki, tls_scps):
    result = echo_target(_target(tls_scps["expired"], ca_file=pki["ca"]))
    assert result.diagnosis.code == "tls-certificate-expired"


def test_tls_to_a_plain_dicom_port(pki, tls_scps):
    result = echo_target(_target(tls_scps["plain"], ca_file=pki["ca"]))
    assert result.diagnosis.code in ("tls-not-tls", "tls-closed-during-handshake")


def test_tls_requiring_tls_1_3_is_a_protocol_mismatch(pki, tls_scps):
    import pacs_console.core.dicom.wire.tls as tls_mod

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*pki["good"])
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    server = make_ae("TLSPACS", QUICK, supported=[Verification]).serve(("127.0.0.1", 0),
                                                                        ssl_context=context)
    original = tls_mod.client_context

    def tls12_only(cfg):
        ctx = original(cfg)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    tls_mod.client_context = tls12_only
    try:
        result = echo_target(_target(server.server_address[1], ca_file=pki["ca"]))
    finally:
        tls_mod.client_context = original
        server.shutdown()
    assert result.diagnosis.code == "tls-protocol-mismatch"


def test_missing_ca_file_is_a_configuration_problem(tls_scps, tmp_path):
    result = echo_target(_target(tls_scps["good"], ca_file=str(tmp_path / "missing.pem")))
    assert result.diagnosis.code == "tls-configuration"
