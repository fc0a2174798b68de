"""TLS of one service: protocol versions, cipher, and the certificate (self-signed, expired or
expiring, wrong host, weak key). Handshakes go through ``dicom.wire.tls``'s client context;
handshake failures are named by ``dicom.diagnosis.diagnose_tls``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import warnings

from pacs_console.core.dicom.diagnosis.diagnose_tls import diagnose_tls_error, is_tls_error
from pacs_console.core.dicom.wire.tls import TlsConfig, client_context

EXPIRING_DAYS = 30
MAX_CERT = 64 << 10  # a server certificate is a few kB; anything larger is not parsed
_WEAK_CIPHER = ("RC4", "DES", "NULL", "EXPORT", "MD5", "ANON", "IDEA", "SEED")


class NotTls(Exception):
    """The port did not answer a TLS ClientHello with TLS (``str`` says what happened)."""


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((host, port), timeout=timeout)


def handshake(host: str, port: int, timeout: float) -> dict:
    """One TLS 1.2+ handshake without verification: protocol, cipher, DER certificate.

    Raises NotTls when the port speaks something else (or refuses every TLS 1.2+ hello)."""
    context = client_context(TlsConfig(verify=False))
    raw = None
    try:
        raw = _connect(host, port, timeout)
        with context.wrap_socket(raw, server_hostname=None) as tls:
            cipher = tls.cipher() or ("", "", 0)
            return {"protocol": tls.version() or "", "cipher": cipher[0], "bits": cipher[2],
                    "der": tls.getpeercert(binary_form=True) or b""}
    except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
        if is_tls_error(exc):
            diagnosis = diagnose_tls_error(exc, host, port)
            if diagnosis.code == "tls-protocol-mismatch":
                return {"protocol": "", "cipher": "", "bits": 0, "der": b"",
                        "modern_refused": diagnosis.what}
            raise NotTls(diagnosis.what) from None
        raise NotTls(f"{type(exc).__name__}: {exc}"[:200]) from None
    finally:
        if raw is not None:
            raw.close()


def old_protocol(host: str, port: int, timeout: float) -> dict:
    """The handshake facts when the service accepts TLS below 1.2, else {}."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():  # deprecated on purpose: this asks for the old ones
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        return {}  # this OpenSSL cannot even offer the old versions
    raw = None
    try:
        raw = _connect(host, port, timeout)
        with context.wrap_socket(raw) as tls:
            cipher = tls.cipher() or ("", "", 0)
            return {"protocol": tls.version() or "", "cipher": cipher[0], "bits": cipher[2],
                    "der": tls.getpeercert(binary_form=True) or b""}
    except (ssl.SSLError, OSError):
        return {}
    finally:
        if raw is not None:
            raw.close()


def _names(cert) -> tuple[list[str], list[str]]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return ([str(ip) for ip in san.get_values_for_type(x509.IPAddress)],
                [name.lower() for name in san.get_values_for_type(x509.DNSName)])
    except x509.ExtensionNotFound:
        cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        return [], [str(v).lower() for v in cn]


def _host_matches(host: str, ips: list[str], dns: list[str]) -> bool:
    try:
        ipaddress.ip_address(host)
        return host in ips
    except ValueError:
        host = host.lower()
        return host in dns or any(d.startswith("*.") and host.split(".", 1)[-1] == d[2:]
                                  for d in dns)


def certificate_findings(der: bytes, host: str, now: dt.datetime | None = None
                         ) -> list[tuple[str, str]]:
    """``[(check, evidence)]`` for one DER certificate; a malformed one is itself reported."""
    from cryptography import x509

    if not der or len(der) > MAX_CERT:
        return [("tls-self-signed", f"no usable certificate ({len(der)} bytes)")]
    try:
        return _judge(x509.load_der_x509_certificate(der), host, now)
    except Exception as exc:  # noqa: BLE001 - a hostile certificate becomes a finding, not a crash
        return [("tls-self-signed", f"the certificate does not parse: "
                                    f"{type(exc).__name__}: {str(exc)[:120]}")]


def _judge(cert, host: str, now: dt.datetime | None) -> list[tuple[str, str]]:
    from cryptography.hazmat.primitives.asymmetric import dsa, rsa

    now = now or dt.datetime.now(dt.UTC)
    out: list[tuple[str, str]] = []
    subject = cert.subject.rfc4514_string()[:120]
    if cert.issuer == cert.subject:
        out.append(("tls-self-signed", f"issuer = subject = {subject!r}"))
    after = cert.not_valid_after_utc
    if after < now:
        out.append(("tls-expired", f"expired {after:%Y-%m-%d} ({(now - after).days} days ago)"))
    elif after - now <= dt.timedelta(days=EXPIRING_DAYS):
        out.append(("tls-expiring", f"expires {after:%Y-%m-%d}, in {(after - now).days} days"))
    ips, dns = _names(cert)
    if not _host_matches(host, ips, dns):
        out.append(("tls-wrong-host", f"certificate names {', '.join(ips + dns) or 'nothing'}; "
                                      f"the node was reached as {host}"))
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey | dsa.DSAPublicKey) and key.key_size < 2048:
        kind = "RSA" if isinstance(key, rsa.RSAPublicKey) else "DSA"
        out.append(("tls-weak-key", f"{kind} {key.key_size}-bit key"))
    return out


def weak_cipher(protocol: str, cipher: str) -> bool:
    if not cipher or protocol == "TLSv1.3":
        return False
    name = cipher.upper()
    return any(w in name for w in _WEAK_CIPHER) or not any(
        a in name for a in ("GCM", "CHACHA20", "CCM")) or not any(
        k in name for k in ("ECDHE", "DHE"))


def assess(run, service) -> dict | None:
    """Every TLS check on ``service``; the handshake facts, or None when it is not TLS."""
    run.pace()
    try:
        facts = handshake(service.host, service.port, run.options.timeout)
    except NotTls:
        return None
    run.pace()
    old = old_protocol(service.host, service.port, run.options.timeout)
    if old:
        run.add("tls-old-protocol", service, f"a handshake offering only TLS 1.0/1.1 succeeded "
                                             f"with {old['protocol']} ({old['cipher']})")
    if facts.get("modern_refused"):
        if not old:
            return facts
        facts = old  # only old versions: judge the cipher and certificate it showed there
    if weak_cipher(facts["protocol"], facts["cipher"]):
        run.add("tls-weak-cipher", service, f"{facts['protocol']} negotiated {facts['cipher']}")
    for check, evidence in certificate_findings(facts["der"], service.host):
        run.add(check, service, evidence)
    return facts
