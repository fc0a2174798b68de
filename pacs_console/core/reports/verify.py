"""Check a signed report with pyHanko: signer, time, intact bytes, changes after signing, trust."""

from __future__ import annotations

import hashlib
import io
import logging
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from pacs_console.core.errors import Diagnosis

# pyHanko's ModificationLevel names, in words an engineer or a hospital manager can act on.
MODIFICATION_TEXT = {
    "NONE": "not modified after signing",
    "LTA_UPDATES": "only timestamps or validation data added after signing (allowed)",
    "FORM_FILLING": "form fields filled or signatures added after signing",
    "ANNOTATIONS": "comments or annotations added after signing",
    "OTHER": "content changed after signing",
}


# Where a signature's certificate comes from, and whether that makes it trusted.
ORIGIN_TEXT = {
    "this-laptop": "this laptop's engineer certificate (pinned by fingerprint)",
    "this-laptop-previous": "a previous engineer certificate of this laptop (pinned)",
    "given-fingerprint": "a certificate whose fingerprint you were given",
    "company-ca": "issued by your company's certificate authority",
    "public-ca": "issued by a public certificate authority",
    "sample": "a SAMPLE signature made for training: not a real signature",
    "unknown": "signed by an unknown certificate: NOT the engineer's known certificate",
}
TRUSTED_ORIGINS = ("this-laptop", "this-laptop-previous", "given-fingerprint", "company-ca",
                   "public-ca")
SAMPLE_MARK = "not a real signature"
# The JSON each kind of signed PDF carries (core.reports.sign.KINDS names them when signing).
ATTACHMENT_NAMES = ("visit-report.json", "security-assessment.json")


@dataclass(frozen=True)
class SignatureCheck:
    field: str
    kind: str  # signature, document-timestamp
    signer: str
    signer_fingerprint: str
    signing_time: str | None
    timestamp: str | None
    intact: bool
    valid: bool
    trusted: bool
    self_signed: bool
    trust: str  # trusted, self-signed, untrusted
    coverage: str
    modification: str
    docmdp_ok: bool | None
    certified: bool
    name: str = ""
    organisation: str = ""
    origin: str = "unknown"

    @property
    def modified(self) -> bool:
        return self.modification not in ("NONE", "LTA_UPDATES") or self.docmdp_ok is False


@dataclass(frozen=True)
class VerifyReport:
    path: str
    signatures: tuple[SignatureCheck, ...] = ()
    attachment_sha256: str | None = None
    diagnosis: Diagnosis | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def signed(self) -> bool:
        return any(s.kind == "signature" for s in self.signatures)

    @property
    def intact(self) -> bool:
        return bool(self.signatures) and all(s.intact and s.valid for s in self.signatures)

    @property
    def modified(self) -> bool:
        return any(s.modified for s in self.signatures if s.kind == "signature")

    @property
    def ok(self) -> bool:
        """Signed, every signature intact, nothing but timestamps added after signing."""
        return self.diagnosis is None and self.signed and self.intact and not self.modified

    @property
    def state(self) -> str:
        if self.diagnosis is not None:
            return "unreadable"
        if not self.signed:
            return "unsigned"
        if not self.intact:
            return "broken"
        if self.modified:
            return "modified"
        origins = {s.origin for s in self.signatures if s.kind == "signature"}
        if "sample" in origins:
            return "sample"
        if not origins <= set(TRUSTED_ORIGINS):
            return "unknown-certificate"
        return "valid"

    @property
    def engineer_signature(self) -> SignatureCheck | None:
        signed = [s for s in self.signatures if s.kind == "signature"]
        return signed[0] if signed else None

    def summary(self) -> dict:
        """The fields scripts read: who signed, when, with what, and whether to trust it."""
        sig = self.engineer_signature
        stamps = [s.timestamp for s in self.signatures if s.timestamp]
        return {
            "signer": {"name": sig.name if sig else None,
                       "organisation": sig.organisation if sig else None,
                       "fingerprint": sig.signer_fingerprint if sig else None},
            "signed_at": sig.signing_time if sig else None,
            "timestamp": stamps[0] if stamps else None,
            "whole_file": bool(sig and sig.coverage == "ENTIRE_FILE"),
            "changed_after_signing": self.modified,
            "sample": bool(sig and sig.origin == "sample"),
            "certificate": sig.origin if sig else None,
            "trusted": self.ok and self.state == "valid",
        }

    def to_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "state": self.state, **self.summary(),
                "signed": self.signed, "intact": self.intact, "modified": self.modified,
                "attachment_sha256": self.attachment_sha256,
                "signatures": [{**asdict(s), "modified": s.modified,
                                "modification_text": MODIFICATION_TEXT.get(s.modification,
                                                                           s.modification)}
                               for s in self.signatures],
                "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
                "notes": list(self.notes)}

    def text(self) -> str:
        if self.diagnosis is not None:
            return self.diagnosis.text()
        lines = [f"{self.path}: {self.state.upper()}"]
        if not self.signatures:
            lines.append("  no signature in this PDF")
        for s in self.signatures:
            lines.append(f"  {s.kind} {s.field}: {s.signer}")
            lines.append(f"    signed at {s.signing_time or 'unknown'}"
                         + (f", timestamp {s.timestamp}" if s.timestamp else ", no timestamp"))
            lines.append("    signed bytes " + ("intact" if s.intact and s.valid
                                                 else "BROKEN (altered after signing)"))
            lines.append("    " + MODIFICATION_TEXT.get(s.modification, s.modification)
                         + ("" if s.docmdp_ok is not False else " — NOT permitted by the "
                            "certification"))
            if s.kind == "signature":
                lines.append(f"    signer {s.name or s.signer}"
                             + (f", {s.organisation}" if s.organisation else ""))
                lines.append(f"    certificate SHA-256 {s.signer_fingerprint}")
                lines.append("    certificate: " + ORIGIN_TEXT.get(s.origin, s.origin))
        if self.attachment_sha256:
            lines.append(f"  attached data SHA-256 {self.attachment_sha256}")
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)


def _parts(cert) -> tuple[str, str]:
    try:
        native = cert.subject.native
        return (str(native.get("common_name") or cert.subject.human_friendly),
                str(native.get("organization_name") or ""))
    except Exception:  # noqa: BLE001 - odd certificates still get verified
        return "unknown signer", ""


def _name(cert) -> str:
    name, org = _parts(cert)
    return f"{name} ({org})" if org else name


def _origin(cert, fingerprint: str, trusted: bool, pinned: dict[str, str],
            company_subjects: set) -> str:
    name, org = _parts(cert)
    if SAMPLE_MARK in f"{name} {org}".lower():
        return "sample"
    if fingerprint in pinned:
        return pinned[fingerprint]
    if trusted:
        return "company-ca" if cert.issuer.dump() in company_subjects else "public-ca"
    return "unknown"


@contextmanager
def _quiet_pyhanko():
    """pyHanko logs a traceback for every self-signed certificate; we report trust ourselves."""
    logger = logging.getLogger("pyhanko")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def attachment(reader, names=ATTACHMENT_NAMES) -> bytes | None:
    """The embedded data (visit or security assessment), from the document's EmbeddedFiles
    name tree; ``names`` is one name or several."""
    wanted = (names,) if isinstance(names, str) else tuple(names)
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return None
    for index in range(0, len(names), 2):
        if str(names[index]) in wanted:
            spec = names[index + 1].get_object()
            return spec["/EF"]["/F"].get_object().data
    return None


def verify_bytes(data: bytes, path: str = "", *, extra_trust=(),
                 pinned: dict[str, str] | None = None) -> VerifyReport:
    """``extra_trust``: company CA certificates (asn1crypto); ``pinned``: certificate SHA-256
    fingerprint -> origin ('this-laptop', 'this-laptop-previous', 'given-fingerprint')."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
        found = attachment(reader)
    except (PdfReadError, KeyError, ValueError, IndexError, TypeError) as exc:
        return VerifyReport(path, diagnosis=Diagnosis(
            "report-unreadable", "The PDF cannot be read as a signed report",
            ("The file is damaged or was changed so that its structure no longer parses",),
            ("Get the original from the engineer or the hospital's copy",),
            {"error": f"{type(exc).__name__}: {exc}"[:300]}))
    checks, notes = [], []
    pinned = pinned or {}
    company_subjects = {c.subject.dump() for c in extra_trust}
    for sig in embedded:
        context = ValidationContext(trust_roots=[*public_roots(), *extra_trust],
                                    allow_fetching=False, revocation_mode="soft-fail")
        is_timestamp = sig.sig_object_type == "/DocTimeStamp"
        try:
            with _quiet_pyhanko():
                if is_timestamp:
                    status = validate_pdf_timestamp(sig, validation_context=context)
                else:
                    status = validate_pdf_signature(sig, signer_validation_context=context,
                                                    ts_validation_context=context)
        except Exception as exc:  # noqa: BLE001 - a mangled signature is a finding, not a crash
            checks.append(SignatureCheck(sig.field_name, "signature", "unknown", "", None, None,
                                         False, False, False, False, "untrusted",
                                         "unknown", "OTHER", False, False))
            notes.append(f"{sig.field_name}: {type(exc).__name__}: {exc}"[:300])
            continue
        cert = status.signing_cert
        self_signed = cert.subject == cert.issuer
        fingerprint = hashlib.sha256(cert.dump()).hexdigest()
        origin = _origin(cert, fingerprint, bool(status.trusted), pinned, company_subjects)
        trust = ("trusted" if origin in TRUSTED_ORIGINS else
                 "sample" if origin == "sample" else "unknown")
        name, organisation = _parts(cert)
        when = getattr(status, "signer_reported_dt", None)
        stamp = getattr(status, "timestamp_validity", None)
        stamp_time = (status.timestamp if is_timestamp else stamp.timestamp if stamp else None)
        level = status.modification_level
        checks.append(SignatureCheck(
            sig.field_name, "document-timestamp" if is_timestamp else "signature", _name(cert),
            fingerprint, when.isoformat() if when else None,
            stamp_time.isoformat() if stamp_time else None, bool(status.intact),
            bool(status.valid), trust == "trusted", self_signed, trust,
            status.coverage.name if status.coverage else "unknown",
            level.name if level is not None else "unknown", status.docmdp_ok,
            sig.sig_object_type != "/DocTimeStamp" and _certifies(sig), name, organisation,
            origin))
    return VerifyReport(path, tuple(checks),
                        hashlib.sha256(found).hexdigest() if found is not None else None,
                        notes=tuple(notes))


@lru_cache(maxsize=1)
def public_roots() -> tuple:
    """The public CAs (certifi's bundle, as browsers trust them): the OS list is not portable
    and a frozen build may not find it. An organisation CA is passed as ``extra_trust``."""
    import certifi
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    roots = []
    with open(certifi.where(), "rb") as handle:
        for kind, _, der in pem.unarmor(handle.read(), multiple=True):
            if kind == "CERTIFICATE":
                roots.append(asn1_x509.Certificate.load(der))
    return tuple(roots)


def _certifies(sig) -> bool:
    try:
        return sig.docmdp_level is not None
    except Exception:  # noqa: BLE001
        return False


def trust_for(data_dir: Path | None, *, fingerprints=(), ca_files=()) -> tuple[tuple, dict]:
    """(company CA certificates, pinned fingerprints) from this laptop's data folder (its
    engineer certificates, current and previous), fingerprints a hospital was given, and
    company CA files (PEM or DER)."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    pinned: dict[str, str] = {}
    if data_dir is not None:
        from pacs_console.core.reports.certs import laptop_fingerprints

        for fp, label in laptop_fingerprints(data_dir).items():
            pinned[fp] = "this-laptop" if label == "current" else "this-laptop-previous"
    for fp in fingerprints:
        pinned.setdefault(fp.replace(":", "").strip().lower(), "given-fingerprint")
    cas = []
    for ca in ca_files:
        data = Path(ca).read_bytes()
        ders = ([der for kind, _, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
                if pem.detect(data) else [data])
        cas += [asn1_x509.Certificate.load(der) for der in ders]
    return tuple(cas), pinned


MAX_REPORT_BYTES = 512 << 20  # a visit report is a few MB; this is a PDF, not a disk image


def attached_json(path: Path) -> dict | None:
    """The visit data attached to a report PDF, or None when it cannot be read."""
    import json

    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        with open(path, "rb") as handle:
            data = attachment(PdfFileReader(handle, strict=False))
        return json.loads(data) if data else None
    except Exception:  # noqa: BLE001 - an unreadable report anchors nothing
        return None


def verify_file(path: Path, *, extra_trust=(), pinned: dict[str, str] | None = None
                ) -> VerifyReport:
    from pacs_console.core.safepath import FileRefused, read_regular

    path = Path(path)
    try:
        data = read_regular(path, MAX_REPORT_BYTES)
    except (OSError, FileRefused) as exc:
        return VerifyReport(str(path), diagnosis=Diagnosis(
            "report-missing", f"Cannot read {path}", (str(exc),), ("Check the path",)))
    return verify_bytes(data, str(path), extra_trust=extra_trust, pinned=pinned)


def verify_on_this_laptop(path: Path, data_dir: Path | None, *, company_ca: str = "",
                          fingerprints=(), ca_files=()) -> VerifyReport:
    """verify_file trusting what this laptop knows: its engineer certificates (pinned), the
    company CA from settings, plus any fingerprints or CA files given for this check."""
    files = [*ca_files, *([company_ca] if company_ca else [])]
    extra, pinned = trust_for(data_dir, fingerprints=fingerprints, ca_files=files)
    return verify_file(path, extra_trust=extra, pinned=pinned)
