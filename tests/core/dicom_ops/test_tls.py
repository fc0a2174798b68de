"""DICOM over TLS: a pynetdicom SCP with certificates made here; trust, host name, success."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pynetdicom.sop_class import Verification

from pacs_console.core.dicom.ae import make_ae
from pacs_console.core.dicom.echo import echo_target
from pacs_console.core.dicom.params import Timeouts
from pacs_console.core.dicom.target import Target
from pacs_console.core.dicom.tls import TlsConfig

QUICK = Timeouts(connect=2, acse=3, dimse=5, network=10)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, issuer, key, signer, *, ca: bool, san=None, days=(-1, 30)):
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + dt.timedelta(days=days[0]))
               .not_valid_after(now + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _write(path, cert=None, key=None):
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(_name("Test Hospital CA"), _name("Test Hospital CA"), ca_key, ca_key, ca=True)
    files = {"ca": _write(folder / "ca.pem", ca)}
    for label, san, days in (
            ("good", [x509.DNSName("pacs.hospital.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], (-1, 30)),
            ("othername", [x509.DNSName("other.hospital.test")], (-1, 30)),
            ("expired", [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], (-30, -1))):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(_name(label), _name("Test Hospital CA"), key, ca_key, ca=False, san=san,
                     days=days)
        files[label] = (_write(folder / f"{label}.pem", cert), _write(folder / f"{label}.key", key=key))
    return files


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
    import pacs_console.core.dicom.tls as tls_mod

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
