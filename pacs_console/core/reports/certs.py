"""The engineer's signing certificate: PKCS#12 under data/signing, its passphrase in the keyring."""

from __future__ import annotations

import hashlib
import os
import secrets as pysecrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.secrets import SecretStore

PASSPHRASE_KEY = "report-signing-passphrase"
PASSPHRASE_ENV = "PACS_CONSOLE_SIGNING_PASSPHRASE"
P12_NAME = "engineer.p12"
Ask = Callable[[str], str | None]
_signers: dict[tuple, tuple] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    self_signed: bool
    path: Path

    def to_dict(self) -> dict:
        return {"subject": self.subject, "issuer": self.issuer,
                "fingerprint_sha256": self.fingerprint_sha256,
                "not_before": self.not_before.isoformat(), "not_after": self.not_after.isoformat(),
                "self_signed": self.self_signed, "path": str(self.path)}


def _fail(code: str, what: str, causes: tuple[str, ...], actions: tuple[str, ...],
          **evidence: str) -> ConsoleError:
    return ConsoleError(Diagnosis(code, what, causes, actions, evidence))


def p12_path(data_dir: Path) -> Path:
    return Path(data_dir) / "signing" / P12_NAME


def _info(cert, path: Path) -> CertificateInfo:
    from cryptography.hazmat.primitives import serialization

    der = cert.public_bytes(serialization.Encoding.DER)
    return CertificateInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                           hashlib.sha256(der).hexdigest(), cert.not_valid_before_utc,
                           cert.not_valid_after_utc, cert.subject == cert.issuer, path)


def passphrase(store: SecretStore, *, ask: Ask | None = None, purpose: str = "") -> str:
    """Keyring (or this session's memory) first, then the environment, then ask the engineer."""
    value = store.get(PASSPHRASE_KEY) or os.environ.get(PASSPHRASE_ENV)
    if not value and ask is not None:
        value = ask(purpose or "Passphrase of the report signing certificate")
    if not value:
        raise _fail("signing-passphrase", "The signing certificate's passphrase is not available",
                    ("No secure OS keyring holds it on this computer",),
                    ("Type it when asked, or set PACS_CONSOLE_SIGNING_PASSPHRASE for scripts",
                     "Start a Secret Service (GNOME Keyring, KWallet) so it is remembered"))
    return value


def _write_p12(path: Path, key, cert, secret: str, name: str) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    data = pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, cert, None,
                                                 BestAvailableEncryption(secret.encode("utf-8")))
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_bytes(data)
    os.chmod(temp, 0o600)
    os.replace(temp, path)
    from cryptography.hazmat.primitives import serialization

    path.with_suffix(".cer").write_bytes(cert.public_bytes(serialization.Encoding.DER))


def generate_certificate(data_dir: Path, store: SecretStore, engineer: str, organisation: str,
                         *, ask: Ask | None = None, years: int = 5) -> CertificateInfo:
    """A self-signed signing certificate for the engineer, made on this laptop."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if not engineer.strip():
        raise _fail("signing-no-engineer", "A signing certificate needs the engineer's name",
                    ("Settings have no engineer name",),
                    ("Fill in your name in File > Settings (or settings.json)",))
    secret = store.get(PASSPHRASE_KEY) or os.environ.get(PASSPHRASE_ENV)
    if not secret and store.persistent:
        secret = pysecrets.token_urlsafe(24)  # nobody needs to know it: the keyring does
    elif not secret:
        secret = passphrase(store, ask=ask, purpose="Choose a passphrase for your new signing "
                            "certificate (this computer has no secure keyring to remember it)")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, engineer.strip())]
    if organisation.strip():
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation.strip()))
    name = x509.Name(attrs)
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    path = p12_path(data_dir)
    _write_p12(path, key, cert, secret, engineer)
    store.set(PASSPHRASE_KEY, secret)
    return _info(cert, path)


def import_pkcs12(data_dir: Path, store: SecretStore, source: Path, secret: str) -> CertificateInfo:
    """Use a certificate issued elsewhere; it is re-encrypted with the same passphrase."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, _ = pkcs12.load_key_and_certificates(Path(source).read_bytes(),
                                                        secret.encode("utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail("signing-import", f"Cannot read the PKCS#12 file {Path(source).name}",
                    ("Wrong passphrase, or not a PKCS#12 (.p12/.pfx) file",),
                    ("Check the passphrase and export the certificate with its private key",),
                    error=type(exc).__name__) from exc
    if key is None or cert is None:
        raise _fail("signing-import", "The PKCS#12 file holds no private key and certificate",
                    ("It was exported without the private key",),
                    ("Export it again including the private key",))
    path = p12_path(data_dir)
    _write_p12(path, key, cert, secret, cert.subject.rfc4514_string())
    store.set(PASSPHRASE_KEY, secret)
    return _info(cert, path)


def _load(data_dir: Path, secret: str):
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        return pkcs12.load_key_and_certificates(p12_path(data_dir).read_bytes(),
                                                secret.encode("utf-8"))
    except ValueError as exc:
        raise _fail("signing-passphrase-wrong",
                    "The passphrase does not open the signing certificate",
                    ("A different passphrase was used when the certificate was made",),
                    ("Type the right passphrase, or import your PKCS#12 file again",),
                    path=str(p12_path(data_dir))) from exc


def certificate_info(data_dir: Path) -> CertificateInfo | None:
    """The certificate's public part without the passphrase (PKCS#12 keeps it readable)."""
    path = p12_path(data_dir)
    if not path.exists():
        return None
    cert_der = _public_cert(path)
    if cert_der is None:
        return None
    from cryptography import x509

    return _info(x509.load_der_x509_certificate(cert_der), path)


def _public_cert(path: Path) -> bytes | None:
    # The sidecar keeps the public certificate so listing reports needs no passphrase.
    public = path.with_suffix(".cer")
    return public.read_bytes() if public.exists() else None


def load_signer(data_dir: Path, store: SecretStore, *, engineer: str = "", organisation: str = "",
                ask: Ask | None = None):
    """(pyHanko SimpleSigner, CertificateInfo); the certificate is made on first use."""
    from cryptography.hazmat.primitives import serialization
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.sign.signers import SimpleSigner

    if not p12_path(data_dir).exists():
        generate_certificate(data_dir, store, engineer, organisation, ask=ask)
    secret = passphrase(store, ask=ask)
    stat = p12_path(data_dir).stat()
    # Decrypting PKCS#12 (PBKDF2) costs a few hundred ms: once per session and file version.
    cache_key = (str(p12_path(data_dir).resolve()), stat.st_mtime_ns, stat.st_size,
                 hashlib.sha256(secret.encode("utf-8")).hexdigest())
    with _cache_lock:
        if cache_key in _signers:
            return _signers[cache_key]
    key, cert, extra = _load(data_dir, secret)
    store.set(PASSPHRASE_KEY, secret)  # keyring when secure, else this session's memory
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    from asn1crypto import x509 as asn1_x509

    signer = SimpleSigner(asn1_x509.Certificate.load(cert_der),
                          load_private_key_from_pemder_data(key_der, None),
                          _registry([c.public_bytes(serialization.Encoding.DER)
                                     for c in extra or ()]))
    loaded = signer, _info(cert, p12_path(data_dir))
    with _cache_lock:
        _signers.clear()
        _signers[cache_key] = loaded
    return loaded


def _registry(ders: list[bytes]):
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(d) for d in ders])


def needs_passphrase(data_dir: Path, store: SecretStore) -> bool:
    """Whether signing would have to ask the engineer (so a GUI asks before starting work)."""
    if store.get(PASSPHRASE_KEY) or os.environ.get(PASSPHRASE_ENV):
        return False
    return p12_path(data_dir).exists() or not store.persistent
