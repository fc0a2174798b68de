"""A real RFC 3161 time-stamping authority on loopback (pyHanko's DummyTimeStamper over HTTP)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

from tests.httpd import ReplyHandler, serving


def make_timestamper():
    from asn1crypto import keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the dummy is RSA-only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loopback test TSA")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                           critical=True)
            .sign(key, hashes.SHA256()))
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return DummyTimeStamper(asn1_x509.Certificate.load(cert.public_bytes(
        serialization.Encoding.DER)), keys.PrivateKeyInfo.load(der_key))


class LoopbackTsa:
    """`with LoopbackTsa() as url:` an HTTP TSA answering on 127.0.0.1."""

    def __init__(self) -> None:
        self.stamper = make_timestamper()
        self.requests = 0

    def __enter__(self) -> str:
        from asn1crypto import tsp

        owner = self

        class Handler(ReplyHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                reply = owner.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                owner.requests += 1
                self.reply(reply, "application/timestamp-reply")

        self._stack = ExitStack()
        server = self._stack.enter_context(serving(Handler))
        return f"http://127.0.0.1:{server.server_address[1]}/tsa"

    def __exit__(self, *exc) -> None:
        self._stack.close()
