"""Lay a VisitReport out as a PDF with reportlab platypus: embedded fonts, charts, page numbers."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph
from reportlab.platypus.flowables import Flowable

from pacs_console.core.reports import sections, sections_archive
from pacs_console.core.reports.model import VisitReport
from pacs_console.core.reports.styles import ACCENT, FONT, FONT_BOLD, register_fonts
from pacs_console.paths import resource_path

LONG_REPORT_PAGES = 5  # longer reports get a table of contents after the title block
SIGNATURE_SIZE = (78 * mm, 30 * mm)


@dataclass(frozen=True)
class RenderedReport:
    pdf: bytes
    pages: int
    json_bytes: bytes
    sha256: str
    # Where the engineer's digital signature goes: page index, (x1, y1, x2, y2) in points.
    signature_page: int
    signature_box: tuple[float, float, float, float]


class SignatureSlot(Flowable):
    """Empty space for the visible PAdES signature field; remembers where it landed."""

    def __init__(self, sink: dict, width: float, height: float) -> None:
        super().__init__()
        self.sink, self.width, self.height = sink, width, height

    def wrap(self, avail_width, avail_height):
        return self.width, self.height

    def draw(self) -> None:
        x, y = self.canv.absolutePosition(0, 0)
        self.sink["page"] = self.canv.getPageNumber() - 1
        self.sink["box"] = (x, y, x + self.width, y + self.height)
        self.canv.setStrokeColor(colors.HexColor("#9aa5b1"))
        self.canv.setDash(2, 2)
        self.canv.rect(0, 0, self.width, self.height)


class PageMarker(Flowable):
    """Zero-size flowable remembering the page it landed on (the reserved contents page)."""

    def __init__(self, sink: dict, key: str) -> None:
        super().__init__()
        self.sink, self.key = sink, key

    def wrap(self, avail_width, avail_height):
        return 0, 0

    def draw(self) -> None:
        self.sink[self.key] = self.canv.getPageNumber()


def _numbered_canvas(report: VisitReport, sink: dict):
    footer = f"{report.organisation or 'PACS Console'} · Visit report · {report.site}"

    class NumberedCanvas(Canvas):
        """Defers each page so the footer can say "page X of Y" and the contents can be filled in
        once every heading's page is known: one layout pass instead of reportlab's multiBuild."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab API
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                if self._pageNumber == sink.get("toc_page"):
                    self._draw_contents(sink.get("toc", []))
                self.setFont(FONT, 7.5)
                self.setFillColor(colors.HexColor("#5b6670"))
                self.drawString(18 * mm, 10 * mm, footer[:110])
                self.drawRightString(A4[0] - 18 * mm, 10 * mm,
                                     f"Page {self._pageNumber} of {total}")
                super().showPage()
            super().save()

        def _draw_contents(self, entries: list[tuple[str, int, str]]) -> None:
            left, right = 18 * mm, A4[0] - 18 * mm
            y = A4[1] - 30 * mm
            self.setFont(FONT_BOLD, 14)
            self.setFillColor(ACCENT)
            self.drawString(left, y, "Contents")
            self.setFillColor(colors.black)
            y -= 12 * mm
            for text, page, key in entries:
                self.setFont(FONT, 10.5)
                self.drawString(left + 4 * mm, y, text)
                self.drawRightString(right, y, str(page))
                width = self.stringWidth(text, FONT, 10.5)
                self.setDash(1, 2)
                self.setStrokeColor(colors.HexColor("#9aa5b1"))
                self.line(left + 6 * mm + width, y + 1, right - 8 * mm, y + 1)
                self.setDash()
                self.linkRect("", key, (left, y - 3, right, y + 11), relative=0, thickness=0)
                y -= 8 * mm

    return NumberedCanvas


class _ReportDoc(BaseDocTemplate):
    def __init__(self, buffer, report: VisitReport, sink: dict, **kwargs) -> None:
        super().__init__(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                         topMargin=16 * mm, bottomMargin=18 * mm,
                         title=f"Visit report — {report.site}",
                         author=f"{report.engineer}, {report.organisation}".strip(", "),
                         subject=f"Visit {report.visit_uuid}", creator="PACS Console",
                         **kwargs)
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        self._bookmarks, self.sink = 0, sink

    def afterFlowable(self, flowable) -> None:  # noqa: N802 - reportlab API
        if isinstance(flowable, Paragraph) and flowable.style.name in ("H1", "H2"):
            level = 0 if flowable.style.name == "H1" else 1
            text = flowable.getPlainText()
            self._bookmarks += 1
            key = f"s{self._bookmarks}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
            if level == 0:  # incidents stay in the outline only: the contents fits one page
                self.sink.setdefault("toc", []).append((text, self.page, key))


def default_logo() -> Path:
    custom = resource_path("report", "logo.png")
    return custom if custom.exists() else resource_path("icons", "pacs-console.png")


def looks_long(report: VisitReport) -> bool:
    """A cheap guess at "more than LONG_REPORT_PAGES pages", to lay out once, not twice."""
    charts = sum(len(t.latency_series_ms) > 1 for t in report.test_runs)
    rows = sum(len(c.rows) for c in report.capabilities)
    rows += sum(len(a.findings) + 4 for a in report.archive_checks)
    rows += sum(min(len(d.findings), sections_archive.MAX_ROWS) + 10 for d in report.dr_compares)
    weight = (len(report.incidents) * 0.4 + len(report.test_runs) * 0.05 + charts * 0.3
              + rows * 0.03 + len(report.nodes) * 0.03)
    return weight > LONG_REPORT_PAGES - 1  # pages come to about 2 + weight


def render_pdf(report: VisitReport, *, logo: Path | None = None,
               toc: bool | None = None) -> RenderedReport:
    """The report as PDF bytes; ``toc`` None adds a table of contents only to long reports."""
    register_fonts()
    json_bytes = report.json_bytes()
    digest = hashlib.sha256(json_bytes).hexdigest()
    logo = logo if logo and Path(logo).is_file() else default_logo()

    def build(with_toc: bool) -> tuple[bytes, int, dict]:
        sink: dict = {}
        buffer = io.BytesIO()
        doc = _ReportDoc(buffer, report, sink)
        slot = SignatureSlot(sink, *SIGNATURE_SIZE)
        contents = [PageMarker(sink, "toc_page"), PageBreak()] if with_toc else None
        archive = (sections_archive.archive_integrity(report, doc.width)
                   + sections_archive.dr_comparison(report, doc.width))
        doc.build(sections.story(report, logo, digest, slot, contents, doc.width, archive),
                  canvasmaker=_numbered_canvas(report, sink))
        return buffer.getvalue(), doc.page, sink

    first = looks_long(report) if toc is None else toc
    pdf, pages, sink = build(first)
    if toc is None and not first and pages > LONG_REPORT_PAGES:
        pdf, pages, sink = build(True)
    return RenderedReport(pdf, pages, json_bytes, digest, sink.get("page", pages - 1),
                          sink.get("box", (0, 0, 0, 0)))
