"""Embedded TTF fonts (DejaVu prints ɛ and ɔ; Helvetica cannot) and the report's paragraph styles."""

from __future__ import annotations

import threading

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from pacs_console.paths import resource_path

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
ACCENT = colors.HexColor("#1f5fa8")
_lock = threading.Lock()


def register_fonts() -> None:
    with _lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        pdfmetrics.registerFont(TTFont(FONT, str(resource_path("fonts", "DejaVuSans.ttf"))))
        pdfmetrics.registerFont(TTFont(FONT_BOLD,
                                       str(resource_path("fonts", "DejaVuSans-Bold.ttf"))))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT,
                                      boldItalic=FONT_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("Body", fontName=FONT, fontSize=9.5, leading=13, spaceAfter=4)
    return {
        "Body": body,
        "Small": ParagraphStyle("Small", parent=body, fontSize=8, leading=10.5),
        "Cell": ParagraphStyle("Cell", parent=body, fontSize=8, leading=10, spaceAfter=0),
        "CellBold": ParagraphStyle("CellBold", parent=body, fontName=FONT_BOLD, fontSize=8,
                                   leading=10, spaceAfter=0),
        "Title": ParagraphStyle("Title", parent=body, fontName=FONT_BOLD, fontSize=20,
                                leading=24, textColor=ACCENT, spaceAfter=6),
        "Org": ParagraphStyle("Org", parent=body, fontName=FONT_BOLD, fontSize=12, leading=15),
        "H1": ParagraphStyle("H1", parent=body, fontName=FONT_BOLD, fontSize=13.5, leading=17,
                             textColor=ACCENT, spaceBefore=10, spaceAfter=6, keepWithNext=1),
        "H2": ParagraphStyle("H2", parent=body, fontName=FONT_BOLD, fontSize=10.5, leading=14,
                             spaceBefore=6, spaceAfter=3, keepWithNext=1),
        "TOC1": ParagraphStyle("TOC1", parent=body, fontSize=10, leading=14, leftIndent=4 * mm),
        "TOC2": ParagraphStyle("TOC2", parent=body, fontSize=8.5, leading=11,
                               leftIndent=10 * mm),
        "Mono": ParagraphStyle("Mono", parent=body, fontSize=7.5, leading=10),
    }


STYLES = _styles()
