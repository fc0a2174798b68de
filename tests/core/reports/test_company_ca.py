"""Companies that run their own CA: an engineer certificate issued by it is imported (PKCS#12
with its chain) and reports it signs verify anywhere the company CA is given."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID

from pacs_console.core.profile import Profile
from pacs_console.core.reports import certs
from pacs_console.core.reports.gather import gather
from pacs_console.core.reports.store import build_report, list_reports
from pacs_console.core.reports.verify import trust_for, verify_file, verify_on_this_laptop
from pacs_console.core.settings import updated


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


def _company_pki(folder: Path):
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("Akwaaba Imaging Root CA", "Akwaaba Imaging Services")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=900))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_name("Ama Owusu", "Akwaaba Imaging Services"))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem = folder / "company-ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    p12 = folder / "ama.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"ama", key, cert, [ca], BestAvailableEncryption(b"company pass")))
    return ca_pem, p12


def test_company_issued_certificate_verifies_against_the_company_ca(ctx, visit, tmp_path):
    ca_pem, p12 = _company_pki(tmp_path)
    info = certs.import_pkcs12(ctx.paths.data, ctx.secrets, p12, "company pass")
    assert not info.self_signed and info.name == "Ama Owusu"
    ctx.save_settings(updated(ctx.settings, profile=Profile(name="Ama Owusu",
                                                         organisation="Akwaaba Imaging Services")))
    steps = build_report(lambda: gather(ctx.db, ctx.settings, visit.id, data_dir=ctx.paths.data),
                         ctx.paths.data, ctx.secrets, engineer="Ama Owusu",
                         organisation="Akwaaba Imaging Services")
    for _ in steps:
        pass
    (record,) = list_reports(ctx.paths.data)
    # On another computer: unknown without the CA, trusted as the company's with it.
    assert verify_file(Path(record.path)).state == "unknown-certificate"
    extra, pinned = trust_for(None, ca_files=[ca_pem])
    result = verify_file(Path(record.path), extra_trust=extra, pinned=pinned)
    assert result.state == "valid", result.text()
    assert result.signatures[0].origin == "company-ca"
    assert verify_on_this_laptop(Path(record.path), ctx.paths.data).state == "valid"
