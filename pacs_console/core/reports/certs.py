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
    name: str = ""
    organisation: str = ""

    def to_dict(self) -> dict:
        return {"subject": self.subject, "issuer": self.issuer, "name": self.name,
                "organisation": self.organisation,
                "fingerprint_sha256": self.fingerprint_sha256,
                "not_before": self.not_before.isoformat(), "not_after": self.not_after.isoformat(),
                "self_signed": self.self_signed, "path": str(self.path)}


def _fail(code: str, what: str, causes: tuple[str, ...], actions: tuple[str, ...],
          **evidence: str) -> ConsoleError:
    return ConsoleError(Diagnosis(code, what, causes, actions, evidence))


def p12_path(data_dir: Path) -> Path:
    return Path(data_dir) / "signing" / P12_NAME


def retired_dir(data_dir: Path) -> Path:
    """Certificates this laptop signed with before a profile change: kept to verify old reports."""
    return Path(data_dir) / "signing" / "retired"


def _identity(cert) -> tuple[str, str]:
    from cryptography.x509.oid import NameOID

    def first(oid) -> str:
        found = cert.subject.get_attributes_for_oid(oid)
        return str(found[0].value) if found else ""

    return first(NameOID.COMMON_NAME), first(NameOID.ORGANIZATION_NAME)


def _info(cert, path: Path) -> CertificateInfo:
    from cryptography.hazmat.primitives import serialization

    der = cert.public_bytes(serialization.Encoding.DER)
    name, organisation = _identity(cert)
    return CertificateInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                           hashlib.sha256(der).hexdigest(), cert.not_valid_before_utc,
                           cert.not_valid_after_utc, cert.subject == cert.issuer, path,
                           name, organisation)


def laptop_fingerprints(data_dir: Path) -> dict[str, str]:
    """SHA-256 fingerprints of every certificate this laptop has signed with -> 'current' or
    'previous' (the pins ``report verify`` trusts)."""
    found: dict[str, str] = {}
    current = p12_path(data_dir).with_suffix(".cer")
    candidates = [(current, "current")]
    if retired_dir(data_dir).is_dir():
        candidates += [(p, "previous") for p in sorted(retired_dir(data_dir).glob("*.cer"))]
    for path, label in candidates:
        try:
            found.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), label)
        except OSError:
            continue
    return found


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


MIN_PASSPHRASE = 8


def new_passphrase(store: SecretStore, *, ask: Ask | None) -> tuple[str, str]:
    """(passphrase, where it is kept) for a new certificate.

    Never invents a secret that is not kept where the engineer can reach it: a random one only
    when the OS keyring really stored it; otherwise the engineer chooses one, typed twice."""
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env, "environment"
    secret = pysecrets.token_urlsafe(24)
    if store.set_persistent(PASSPHRASE_KEY, secret):
        return secret, "keyring"
    why = store.status.reason if not store.persistent else "the OS keyring is locked or refused it"
    if ask is None:
        raise _fail("signing-passphrase-unkept",
                    "Cannot create your signing certificate: no passphrase can be kept for it",
                    (f"The keyring cannot remember one: {why}",),
                    ("Unlock the OS keyring (GNOME Keyring, KWallet) and sign again",
                     "Or sign from a terminal (or the window) to choose a passphrase you will "
                     f"type each session, or set {PASSPHRASE_ENV} for scripts"))
    for _attempt in range(3):
        first = ask("Choose a passphrase for your new signing certificate. The keyring cannot "
                    f"keep it ({why}), so you will type it each session; at least "
                    f"{MIN_PASSPHRASE} characters")
        if not first:
            break
        if len(first) < MIN_PASSPHRASE:
            continue
        if ask("Type the same passphrase again to confirm") == first:
            store.set(PASSPHRASE_KEY, first)  # this session's memory only
            return first, "memory"
    raise _fail("signing-passphrase", "No passphrase was chosen for the signing certificate",
                ("The passphrase was left empty, too short, or typed differently twice",),
                ("Sign again and type the same passphrase twice",))


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
    """A self-signed signing certificate for the engineer (from the profile), made here."""

    if not engineer.strip() or not organisation.strip():
        raise _fail("signing-no-profile", "A signing certificate needs your engineer profile",
                    ("Your name or organisation is not set",),
                    ("Set them in File > Settings > Engineer profile, or run "
                     "pacs-console profile set --name NAME --org ORG",))
    secret, _where = new_passphrase(store, ask=ask)
    key, cert = _self_signed(engineer.strip(), organisation.strip(), timedelta(days=365 * years))
    path = p12_path(data_dir)
    _write_p12(path, key, cert, secret, engineer)
    return _info(cert, path)


SAMPLE_NAME = "SAMPLE - not a real signature"
SAMPLE_ORGANISATION = "PACS Console training sample (not a real signature)"


def sample_signer():
    """(pyHanko signer, CertificateInfo) of a throw-away identity made for one sample report:
    never stored, never the engineer's, needs no keyring or passphrase."""
    key, cert = _self_signed(SAMPLE_NAME, SAMPLE_ORGANISATION, timedelta(days=1))
    return _simple_signer(key, cert, ()), _info(cert, Path("<sample, not stored>"))


def _self_signed(common_name: str, organisation: str, lifetime: timedelta):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _imported_marker(data_dir: Path) -> Path:
    return p12_path(data_dir).with_suffix(".imported")


def _imported(data_dir: Path) -> bool:
    """A certificate brought in with ``import_pkcs12`` is never replaced automatically."""
    return _imported_marker(data_dir).exists()


def retire_current(data_dir: Path) -> Path | None:
    """Move the current certificate aside (kept, so reports it signed still verify)."""
    info = certificate_info(data_dir)
    if info is None:
        return None
    folder = retired_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{info.fingerprint_sha256[:16]}"
    source = p12_path(data_dir)
    os.replace(source.with_suffix(".cer"), folder / f"{stem}.cer")
    if source.exists():
        os.replace(source, folder / f"{stem}.p12")
    _imported_marker(data_dir).unlink(missing_ok=True)
    return folder / f"{stem}.cer"


def ensure_certificate(data_dir: Path, store: SecretStore, name: str, organisation: str, *,
                       ask: Ask | None = None,
                       notify: Callable[[str], None] | None = None) -> CertificateInfo:
    """The engineer's certificate for this profile: made on first use, and made again (the old
    one retired) when the profile's name or organisation no longer match it."""
    current = certificate_info(data_dir)
    wanted = (name.strip(), organisation.strip())
    if current is not None and (current.name, current.organisation) == wanted:
        return current
    if current is not None and (not current.self_signed or _imported(data_dir)):
        raise _fail("signing-profile-mismatch",
                    "Your imported certificate names someone other than your profile",
                    (f"The certificate names {current.name} ({current.organisation}); the "
                     f"profile names {wanted[0]} ({wanted[1]})",),
                    ("Import the certificate issued to you, or correct your profile",))
    if notify is not None:
        notify(("Your profile changed: making a new signing certificate (the old one is kept to "
                "verify earlier reports)" if current else
                "Creating your signing certificate") +
               f" for CN={wanted[0]}, O={wanted[1]}")
    if current is not None:
        retire_current(data_dir)
    info = generate_certificate(data_dir, store, *wanted, ask=ask)
    if notify is not None:
        notify(f"Signing certificate created; SHA-256 fingerprint {info.fingerprint_sha256}")
    return info


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
    if certificate_info(data_dir) is not None:
        retire_current(data_dir)  # kept: reports it signed still verify
    path = p12_path(data_dir)
    _write_p12(path, key, cert, secret, cert.subject.rfc4514_string())
    _imported_marker(data_dir).write_text("imported\n", encoding="utf-8")
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
                ask: Ask | None = None, notify: Callable[[str], None] | None = None):
    """(pyHanko SimpleSigner, CertificateInfo) for the profile's person and organisation; the
    certificate is made on first use and again when the profile changed."""
    ensure_certificate(data_dir, store, engineer, organisation, ask=ask, notify=notify)
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
    loaded = _simple_signer(key, cert, extra or ()), _info(cert, p12_path(data_dir))
    with _cache_lock:
        _signers.clear()
        _signers[cache_key] = loaded
    return loaded


def _simple_signer(key, cert, extra):
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.sign.signers import SimpleSigner

    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return SimpleSigner(asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
                        load_private_key_from_pemder_data(key_der, None),
                        _registry([c.public_bytes(serialization.Encoding.DER) for c in extra]))


def _registry(ders: list[bytes]):
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(d) for d in ders])


def needs_passphrase(data_dir: Path, store: SecretStore, engineer: str = "",
                     organisation: str = "") -> bool:
    """Whether signing would have to ask the engineer (so a GUI asks before starting work)."""
    if store.get(PASSPHRASE_KEY) or os.environ.get(PASSPHRASE_ENV):
        return False
    current = certificate_info(data_dir)
    will_create = current is None or (current.name, current.organisation) != (
        engineer.strip(), organisation.strip())
    if will_create:
        return not store.writable()  # a locked or missing keyring: the engineer chooses one
    return True


def creating_certificate(data_dir: Path, engineer: str, organisation: str) -> bool:
    """Whether the next signing makes a new certificate (first use, or the profile changed)."""
    current = certificate_info(data_dir)
    return current is None or (current.name, current.organisation) != (engineer.strip(),
                                                                         organisation.strip())
