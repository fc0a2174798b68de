"""PAdES certification signature with pyHanko, offline; RFC 3161 timestamps when a TSA answers."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyhanko.pdf_utils import content, embed
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError, set_tsp_headers
from pyhanko.stamp.static import StaticStampStyle

from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.reports.pdf import RenderedReport
from pacs_console.core.reports.verify import ATTACHMENT_NAMES

log = logging.getLogger(__name__)
FIELD_NAME = "EngineerSignature"


@dataclass(frozen=True)
class ReportKind:
    """What a signed PDF is: the signature's reason and the name of its JSON attachment."""

    reason: str
    attachment: str
    description: str


VISIT = ReportKind("Visit report certified by the field engineer", ATTACHMENT_NAMES[0],
                   "Visit data")
ASSESSMENT = ReportKind("Security assessment report certified by the field engineer",
                        ATTACHMENT_NAMES[1], "Security assessment data")


class HttpxTimeStamper(TimeStamper):
    """RFC 3161 over HTTP with httpx (already a dependency), short timeout: a field laptop is
    often offline and must not hang waiting for a TSA."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        super().__init__()
        self.url, self.timeout = url, timeout

    async def async_request_tsa_response(self, req):
        import asyncio

        import httpx
        from asn1crypto import tsp

        def post():
            try:
                reply = httpx.post(self.url, content=req.dump(), headers=set_tsp_headers({}),
                                   timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise TimestampRequestError(f"Time-stamping authority unreachable: {exc}") from exc
            if reply.headers.get("Content-Type") != "application/timestamp-reply":
                raise TimestampRequestError("The time-stamping authority's reply is malformed")
            return tsp.TimeStampResp.load(reply.content)

        return await asyncio.to_thread(post)


class _PdfBytesPage(content.ImportedPdfPage):
    """pyHanko imports stamp backgrounds from a file; this one comes from memory."""

    def __init__(self, data: bytes) -> None:
        super().__init__("<memory>")
        self.data = data

    def render(self) -> bytes:
        import binascii
        import uuid

        from pyhanko.pdf_utils.layout import BoxConstraints

        xobj = self._ensure_writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self.data)),
                                                          page_ix=0)
        name = b"/Import" + binascii.hexlify(uuid.uuid4().bytes)
        self.resources.xobject[name.decode("ascii")] = xobj
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = BoxConstraints(width=abs(x1 - x2), height=abs(y1 - y2))
        return name + b" Do"


def stamp_pdf(width: float, height: float, signer_name: str, organisation: str,
              when: datetime, fingerprint: str) -> bytes:
    """The visible signature's appearance, drawn with the embedded TTF so every name prints."""
    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas

    from pacs_console.core.reports.styles import FONT, FONT_BOLD, register_fonts

    register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(width, height))
    c.setFillColor(colors.HexColor("#eef4fb"))
    c.setStrokeColor(colors.HexColor("#1f5fa8"))
    c.roundRect(1, 1, width - 2, height - 2, 4, fill=1)
    c.setFillColor(colors.HexColor("#1f5fa8"))
    c.setFont(FONT_BOLD, 8)
    c.drawString(7, height - 13, "Digitally signed and certified")
    c.setFillColor(colors.black)
    c.setFont(FONT_BOLD, 9)
    c.drawString(7, height - 27, signer_name[:48])
    c.setFont(FONT, 7)
    lines = [organisation[:60], f"{when:%Y-%m-%d %H:%M:%S} UTC",
             f"Certificate SHA-256 {fingerprint[:16]}…",
             "Any later change shows when the signature is checked."]
    for n, line in enumerate(filter(None, lines)):
        c.drawString(7, height - 40 - 9 * n, line)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _embed_json(writer: IncrementalPdfFileWriter, data: bytes, digest: str, when: datetime,
                kind: ReportKind = VISIT):
    params = embed.EmbeddedFileParams(embed_size=True, embed_checksum=True,
                                      creation_date=when, modification_date=when)
    spec = embed.FileSpec(
        file_spec_string=kind.attachment, file_name=kind.attachment,
        embedded_data=embed.EmbeddedFileObject.from_file_data(
            writer, data=data, mime_type="application/json", params=params),
        description=f"{kind.description}; SHA-256 {digest}")
    embed.embed_file(writer, spec)


def unsigned_pdf(rendered: RenderedReport, when: datetime | None = None,
                 kind: ReportKind = VISIT) -> bytes:
    """The report with its JSON attached but no signature (drafts, previews)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(rendered.pdf))
    _embed_json(writer, rendered.json_bytes, rendered.sha256, when or datetime.now(UTC), kind)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def sign_report(rendered: RenderedReport, signer, cert_info, *, engineer: str,
                organisation: str = "", location: str = "",
                timestamper: TimeStamper | None = None,
                kind: ReportKind = VISIT) -> tuple[bytes, bool]:
    """(signed PDF bytes, whether an RFC 3161 timestamp is in it). ``kind`` names the
    signature's reason and the attachment (visit report unless told).

    One incremental update holds the JSON attachment and the certification signature, so the
    attachment is covered too. A TSA that fails is skipped: the report is signed offline and a
    document timestamp can be added later by ``add_document_timestamp``.
    """
    when = datetime.now(UTC)
    x1, y1, x2, y2 = rendered.signature_box
    stamp = StaticStampStyle(background=_PdfBytesPage(stamp_pdf(
        x2 - x1, y2 - y1, engineer, organisation, when, cert_info.fingerprint_sha256)),
        border_width=0)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, certify=True, docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256", name=engineer,
        reason=kind.reason, location=location or None)
    spec = fields.SigFieldSpec(sig_field_name=FIELD_NAME, on_page=rendered.signature_page,
                               box=(int(x1), int(y1), int(x2), int(y2)))

    def attempt(ts: TimeStamper | None) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(rendered.pdf))
        _embed_json(writer, rendered.json_bytes, rendered.sha256, when, kind)
        pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=ts, stamp_style=stamp,
                                       new_field_spec=spec)
        out = io.BytesIO()
        pdf_signer.sign_pdf(writer, output=out)
        return out.getvalue()

    if timestamper is not None:
        try:
            return attempt(timestamper), True
        except TimestampRequestError as exc:
            log.info("Signing without a timestamp: %s", exc)
    try:
        return attempt(None), False
    except (ValueError, OSError) as exc:
        raise ConsoleError(Diagnosis(
            "signing-failed", "The report could not be signed",
            ("The signing certificate or the PDF could not be used",),
            ("Check the certificate under Reports > Certificate, then generate again",),
            {"error": f"{type(exc).__name__}: {exc}"[:300]})) from exc


def add_document_timestamp(path: Path, timestamper: TimeStamper) -> None:
    """A PAdES document timestamp appended to an already signed report (the sync hook).

    It is an incremental update of the kind a certification signature allows, so the
    verification still reads "not modified"."""
    path = Path(path)
    data = path.read_bytes()
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    out = io.BytesIO()
    try:
        signers.PdfTimeStamper(timestamper).timestamp_pdf(writer, "sha256", output=out)
    except TimestampRequestError as exc:
        raise ConsoleError(Diagnosis(
            "timestamp-unreachable", "The time-stamping authority did not answer",
            ("No connectivity, or the TSA URL is wrong",),
            ("Try again when online; the report stays valid without it",),
            {"error": str(exc)[:300]})) from exc
    temp = path.with_suffix(".tmp")
    temp.write_bytes(out.getvalue())
    temp.replace(path)


def timestamper_for(url: str | None) -> TimeStamper | None:
    return HttpxTimeStamper(url) if url else None
