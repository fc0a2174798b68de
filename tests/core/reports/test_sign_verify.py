"""Signed reports: pyHanko validates them; tampering, text, rendering, attachment, secrets."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from pacs_console.core.errors import ConsoleError
from pacs_console.core.models import drain
from pacs_console.core.profile import Profile
from pacs_console.core.reports import certs
from pacs_console.core.reports.gather import gather
from pacs_console.core.reports.sign import add_document_timestamp
from pacs_console.core.reports.store import build_report, list_reports, timestamp_pending
from pacs_console.core.reports.verify import (
    attachment,
    verify_bytes,
    verify_file,
    verify_on_this_laptop,
)
from pacs_console.core.settings import updated
from tests.core.reports.conftest import ENGINEER, ORGANISATION
from tests.core.reports.tsa import LoopbackTsa


def build(ctx, visit, **kw):
    return drain(build_report(lambda: gather(ctx.db, ctx.settings, visit.id,
                                             data_dir=ctx.paths.data),
                              ctx.paths.data, ctx.secrets, engineer=ctx.settings.profile.name,
                              organisation=ctx.settings.profile.organisation, **kw))


@pytest.fixture
def signed(ctx, visit):
    return build(ctx, visit)


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          text=True, check=True, timeout=60).stdout


def test_signed_report_validates_intact_and_unmodified(ctx, visit, signed):
    assert signed.signed and not signed.timestamped and signed.pages >= 3
    result = verify_on_this_laptop(Path(signed.path), ctx.paths.data)
    assert result.ok and result.state == "valid", result.text()
    (sig,) = result.signatures
    assert sig.intact and sig.valid and sig.modification == "NONE" and sig.docmdp_ok
    assert sig.certified and sig.self_signed and sig.trust == "trusted"
    assert sig.origin == "this-laptop" and sig.name == ENGINEER
    assert sig.organisation == ORGANISATION and sig.coverage == "ENTIRE_FILE"
    summary = result.summary()
    assert summary["signer"] == {"name": ENGINEER, "organisation": ORGANISATION,
                                 "fingerprint": sig.signer_fingerprint}
    assert summary["whole_file"] and not summary["changed_after_signing"]
    assert not summary["sample"] and summary["trusted"]
    # Without this laptop's pins (another computer, nothing given) the same file is intact but
    # its certificate is unknown: trust is never assumed from a name.
    elsewhere = verify_file(Path(signed.path))
    assert elsewhere.state == "unknown-certificate" and not elsewhere.summary()["trusted"]
    given = verify_file(Path(signed.path), pinned={sig.signer_fingerprint: "given-fingerprint"})
    assert given.state == "valid"
    info = certs.certificate_info(ctx.paths.data)
    assert info.fingerprint_sha256 == sig.signer_fingerprint == signed.signer_fingerprint
    assert list_reports(ctx.paths.data) == [signed]
    sidecar = json.loads(Path(signed.path + ".meta.json").read_text(encoding="utf-8"))
    assert sidecar["visit_id"] == visit.id and sidecar["signed"] is True
    assert sidecar["json_sha256"] == signed.json_sha256


def test_one_flipped_byte_in_the_signed_range_breaks_it(signed):
    data = bytearray(Path(signed.path).read_bytes())
    # A byte inside the first page's content, well within the signed byte range.
    at = data.index(b"stream", len(data) // 4) + 20
    data[at] ^= 0x20
    result = verify_bytes(bytes(data))
    assert not result.ok and result.state in ("broken", "unreadable"), result.text()


def test_an_incremental_update_changing_content_is_detected(signed):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(Path(signed.path).read_bytes()))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    forged = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 30 Tf 80 80 Td "
                                                                b"(PAID IN FULL) Tj ET"))
    old = page["/Contents"]
    page["/Contents"] = generic.ArrayObject(
        (list(old) if isinstance(old, generic.ArrayObject) else [old]) + [forged])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    result = verify_bytes(out.getvalue())
    assert result.state == "modified" and not result.ok
    (sig,) = result.signatures
    assert sig.intact and sig.modification == "OTHER" and sig.docmdp_ok is False


def test_text_names_rendering_and_attachment_hash(tmp_path, signed):
    text = pdftotext(Path(signed.path))
    assert "CT cannot send studies to the archive" in text
    assert "Worklist empty on the maternity ultrasound" in text
    assert ENGINEER in text and "Abɛna Sɛrwaa" in text
    assert "MISSED" in text and "archive AE title changed by a vendor update" in text
    pages = subprocess.run(["pdftoppm", "-r", "30", "-png", signed.path, str(tmp_path / "p")],
                           capture_output=True, text=True, timeout=120)
    assert pages.returncode == 0 and not pages.stderr.strip(), pages.stderr
    assert len(list(tmp_path.glob("p-*.png"))) == signed.pages
    from pyhanko.pdf_utils.reader import PdfFileReader

    data = attachment(PdfFileReader(io.BytesIO(Path(signed.path).read_bytes())))
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    printed = re.search(r"SHA-256 of the attachment:\s*([0-9a-f]{64})", text).group(1)
    assert digest == printed == signed.json_sha256
    assert json.loads(data)["visit_id"] == signed.visit_id


def test_passphrase_stays_out_of_files_logs_and_pdf(ctx, visit, data_dir, passphrase_env):
    record = build(ctx, visit)
    assert ctx.secrets.get(certs.PASSPHRASE_KEY) == passphrase_env
    secret = passphrase_env.encode("utf-8")
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
    assert secret not in Path(record.path).read_bytes()


def test_wrong_passphrase_and_import(ctx, visit, tmp_path, passphrase_env, monkeypatch):
    build(ctx, visit)
    ctx.secrets.delete(certs.PASSPHRASE_KEY)
    monkeypatch.setenv("PACS_CONSOLE_SIGNING_PASSPHRASE", "not it")
    with pytest.raises(ConsoleError) as info:
        certs.load_signer(ctx.paths.data, ctx.secrets, engineer=ENGINEER,
                          organisation=ORGANISATION)
    assert info.value.diagnosis.code == "signing-passphrase-wrong"
    # A PKCS#12 made elsewhere, with its own passphrase, becomes the signing certificate.
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    other = tmp_path / "other"
    theirs = certs.generate_certificate(other, ctx.secrets, "Ama Dɔnkɔr", "Hospital IT")
    key, cert, _ = pkcs12.load_key_and_certificates(
        theirs.path.read_bytes(), b"not it")  # made with the environment's passphrase
    source = tmp_path / "ama.p12"
    source.write_bytes(pkcs12.serialize_key_and_certificates(
        b"ama", key, cert, None, BestAvailableEncryption(b"their pass")))
    imported = certs.import_pkcs12(ctx.paths.data, ctx.secrets, source, "their pass")
    assert imported.fingerprint_sha256 == theirs.fingerprint_sha256
    monkeypatch.delenv("PACS_CONSOLE_SIGNING_PASSPHRASE")
    # An imported certificate is never replaced behind the engineer's back: a profile naming
    # someone else is refused, the matching profile signs.
    with pytest.raises(ConsoleError) as info:
        build(ctx, visit)
    assert info.value.diagnosis.code == "signing-profile-mismatch"
    ctx.save_settings(updated(ctx.settings, profile=Profile(name="Ama Dɔnkɔr",
                                                         organisation="Hospital IT")))
    record = build(ctx, visit)
    result = verify_on_this_laptop(Path(record.path), ctx.paths.data)
    assert "Ama Dɔnkɔr" in result.signatures[0].signer and result.state == "valid"


def test_no_secure_keyring_asks_and_keeps_it_in_memory(ctx, visit, monkeypatch):
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        assert not ctx.secrets.persistent
        with pytest.raises(ConsoleError) as info:
            build(ctx, visit)
        assert info.value.diagnosis.code == "signing-passphrase-unkept"
        assert not certs.p12_path(ctx.paths.data).exists()  # nothing encrypted with nothing
        asked = []
        record = build(ctx, visit, ask=lambda prompt: asked.append(prompt) or "typed once")
        assert len(asked) == 2 and record.signed  # chosen, then confirmed
        assert "again" in asked[1]
        build(ctx, visit)  # the session remembers it: not asked again
    finally:
        keyring.set_keyring(previous)


def test_rfc3161_timestamp_online_and_document_timestamp_later(ctx, visit):
    with LoopbackTsa() as url:
        online = build(ctx, visit, tsa_url=url)
    assert online.timestamped
    result = verify_file(Path(online.path))
    assert result.ok and result.signatures[0].timestamp, result.text()
    assert result.summary()["timestamp"]
    # Offline: the TSA does not answer, the report is signed anyway and marked pending.
    offline = build(ctx, visit, tsa_url="http://127.0.0.1:9/tsa")
    assert offline.signed and offline.timestamp_pending
    tsa = LoopbackTsa()
    with tsa as url:
        from pacs_console.core.reports.sign import HttpxTimeStamper

        assert drain(timestamp_pending(ctx.paths.data, HttpxTimeStamper(url))) == 1
    assert tsa.requests >= 1  # pyHanko asks once more to size the signature
    later = verify_file(Path(offline.path))
    assert later.ok, later.text()
    kinds = [s.kind for s in later.signatures]
    assert kinds == ["signature", "document-timestamp"]
    assert later.signatures[0].modification == "LTA_UPDATES"
    assert not [r for r in list_reports(ctx.paths.data) if r.timestamp_pending]


def test_unreachable_tsa_for_a_later_timestamp_is_diagnosed(signed):
    from pacs_console.core.reports.sign import HttpxTimeStamper

    with pytest.raises(ConsoleError) as info:
        add_document_timestamp(Path(signed.path), HttpxTimeStamper("http://127.0.0.1:9/", 2))
    assert info.value.diagnosis.code == "timestamp-unreachable"
    assert verify_file(Path(signed.path)).ok
