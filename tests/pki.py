"""A throw-away hospital PKI for TLS tests: one CA and server certificates signed by it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.httpd import ReplyHandler, serving

LOOPBACK = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
# label -> (subjectAltName entries, validity in days relative to now)
SERVERS = {
    "good": ([x509.DNSName("pacs.hospital.test"), LOOPBACK], (-1, 30)),
    "othername": ([x509.DNSName("other.hospital.test")], (-1, 30)),
    "expired": ([LOOPBACK], (-30, -1)),
}


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


def _write(path: Path, cert=None, key=None) -> str:
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(path)


def make_pki(folder: Path) -> dict:
    """``{"ca": ca.pem, label: (cert.pem, key.pem) for each of SERVERS}`` written to ``folder``."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(_name("Test Hospital CA"), _name("Test Hospital CA"), ca_key, ca_key, ca=True)
    files: dict = {"ca": _write(folder / "ca.pem", ca)}
    for label, (san, days) in SERVERS.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(_name(label), _name("Test Hospital CA"), key, ca_key, ca=False, san=san,
                     days=days)
        files[label] = (_write(folder / f"{label}.pem", cert),
                        _write(folder / f"{label}.key", key=key))
    return files


QIDO_STUDY = {"0020000D": {"vr": "UI", "Value": ["1.2.3.4"]},
              "00100020": {"vr": "LO", "Value": ["KB123456"]}}


class _Qido(ReplyHandler):
    """Answers every GET with one study, as a QIDO-RS search would."""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.reply(json.dumps([QIDO_STUDY]).encode(), "application/dicom+json")


@contextmanager
def https_dicomweb(cert_and_key: tuple[str, str]) -> Iterator[str]:
    """A DICOMweb root over HTTPS on loopback with the given server certificate; yields its URL.

    In-process: Debian 12's Orthanc 1.10.1 resets every HTTPS connection right after the TLS
    handshake on this platform, so the real peer cannot serve https:// here.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert_and_key)
    with serving(_Qido, tls=context) as server:
        yield f"https://127.0.0.1:{server.server_address[1]}/dicom-web"
