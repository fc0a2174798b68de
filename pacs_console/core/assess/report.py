"""The security assessment report: a PDF for the hospital's information security officer,
findings by severity with evidence and remedy, what was not tested and why, the comparison with
the previous assessment; signed like visit reports (``core.reports.sign``)."""

from __future__ import annotations

import hashlib
import io
import json
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from pacs_console.core.assess.catalog import FAMILIES
from pacs_console.core.assess.model import SCORE_FORMULA, SEVERITIES
from pacs_console.core.reports.pdf import SIGNATURE_SIZE, RenderedReport, SignatureSlot
from pacs_console.core.reports.styles import FONT, FONT_BOLD, STYLES, register_fonts

COLOURS = {"critical": "#8b0000", "high": "#d0342c", "medium": "#e08a00", "low": "#c9b300",
           "info": "#5b6670"}
MAX_ROWS = 2000  # findings listed in the PDF (the JSON attachment has them all)


def _p(text, style: str = "Cell") -> Paragraph:
    return Paragraph(escape(str(text)), STYLES[style])


def _table(rows, widths, head_colour="#1f5fa8", extra=()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(head_colour)),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white), ("FONT", (0, 0), (-1, 0), FONT_BOLD, 8),
        ("FONT", (0, 1), (-1, -1), FONT, 8), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c8d0d8")), *extra]))
    return table


def _findings_table(findings: list[dict], width: float) -> Table:
    order = {s: n for n, s in enumerate(reversed(SEVERITIES))}
    rows = [[_p("Severity", "CellBold"), _p("Service", "CellBold"), _p("Finding", "CellBold"),
             _p("Evidence", "CellBold"), _p("What to fix", "CellBold")]]
    style = []
    for n, f in enumerate(sorted(findings, key=lambda f: order.get(f["severity"], 9))[:MAX_ROWS]):
        rows.append([_p(f["severity"].upper(), "CellBold"), _p(f"{f['host']}:{f['port']}"),
                     _p(f"{f.get('title') or f['check']} ({f['check']})"), _p(f["evidence"]),
                     _p(f["remedy"])])
        style.append(("BACKGROUND", (0, n + 1), (0, n + 1),
                      colors.HexColor(COLOURS.get(f["severity"], "#5b6670"))))
        style.append(("TEXTCOLOR", (0, n + 1), (0, n + 1), colors.white))
    widths = [22 * mm, 30 * mm, 36 * mm]
    widths += [(width - sum(widths)) * 0.55, (width - sum(widths)) * 0.45]
    return _table(rows, widths, extra=style)


def story(data: dict, comparison: dict | None, engineer: str, organisation: str,
          slot, width: float) -> list:
    s = STYLES
    out: list = [Paragraph("Security assessment report", s["Title"]),
                 _p(f"{data.get('site') or data.get('targets')}", "Org"),
                 _p(f"{organisation} · {engineer} · started {data['started_at'][:19]} UTC · "
                    f"{data['duration_s']:.1f} s", "Body"),
                 Paragraph("Summary", s["H1"])]
    counts = data["counts"]
    score = "none (no service answered)" if data["score"] is None else f"{data['score']} of 100"
    out.append(_p(f"Site score {score}. Findings: " + ", ".join(
        f"{counts[k]} {k}" for k in reversed(SEVERITIES)) + ".", "Body"))
    out.append(_p(f"Score: {SCORE_FORMULA}.", "Small"))
    rows = [[_p("Node", "CellBold"), _p("Score", "CellBold"), _p("Worst", "CellBold"),
             _p("Services", "CellBold")]]
    rows += [[_p(n["host"]), _p(n["score"]), _p(n["worst"]), _p(", ".join(n["services"]))]
             for n in data["nodes"]]
    out.append(_table(rows, [40 * mm, 18 * mm, 22 * mm, width - 80 * mm]))
    out.append(Paragraph("Compared with the previous assessment", s["H1"]))
    if not comparison or not comparison.get("previous"):
        out.append(_p("This is the first assessment of this site kept on this laptop.", "Body"))
    else:
        out.append(_p(f"Previous assessment {str(comparison['previous'])[:19]} UTC, score "
                      f"{comparison.get('previous_score')}: {len(comparison['fixed'])} fixed, "
                      f"{len(comparison['new'])} new, {len(comparison['still_open'])} still "
                      "open.", "Body"))
        for label in ("fixed", "new", "still_open"):
            items = comparison[label]
            if items:
                out.append(Paragraph(label.replace("_", " ").capitalize(), s["H2"]))
                out.append(_p("; ".join(f"{f['host']}:{f['port']} {f['check']}"
                                        for f in items[:200]), "Small"))
    out.append(Paragraph("Findings", s["H1"]))
    if data["findings"]:
        out.append(_findings_table(data["findings"], width))
    else:
        out.append(_p("No findings.", "Body"))
    out.append(Paragraph("Not tested, and why", s["H1"]))
    not_tested = data.get("not_tested", [])
    out.append(_p("Everything listed was tested." if not not_tested else "", "Body"))
    for t in not_tested[:MAX_ROWS]:
        out.append(_p(f"{t['host']}:{t['port']} {t['check']}: {t['reason']}", "Small"))
    out.append(Paragraph("Method: what each family of checks sends", s["H1"]))
    chosen = data["options"]["checks"]
    for family, sends in FAMILIES.items():
        if chosen == "all" or family in chosen:
            out.append(_p(f"{family}: {sends}", "Small"))
    out += [Spacer(1, 6 * mm), _p("Signed by the engineer who ran the assessment:", "Body"),
            slot]
    return out


def render(data: dict, comparison: dict | None, *, engineer: str = "",
           organisation: str = "") -> RenderedReport:
    """The PDF, with the assessment and comparison as the JSON attached when it is signed."""
    register_fonts()
    json_bytes = json.dumps({"assessment": data, "comparison": comparison},
                            ensure_ascii=False, sort_keys=True).encode("utf-8")
    sink: dict = {}
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=18 * mm,
                            title=f"Security assessment — {data.get('site') or data['targets']}",
                            author=engineer, creator="PACS Console")
    doc.build(story(data, comparison, engineer, organisation,
                    SignatureSlot(sink, *SIGNATURE_SIZE), doc.width))
    return RenderedReport(buffer.getvalue(), doc.page, json_bytes,
                          hashlib.sha256(json_bytes).hexdigest(), sink.get("page", doc.page - 1),
                          sink.get("box", (0, 0, 0, 0)))


def signed_pdf(data: dict, comparison: dict | None, signer, cert_info, *,
               location: str = "") -> bytes:
    from pacs_console.core.reports.sign import ASSESSMENT, sign_report

    rendered = render(data, comparison, engineer=cert_info.name,
                      organisation=cert_info.organisation)
    pdf, _ = sign_report(rendered, signer, cert_info, engineer=cert_info.name,
                         organisation=cert_info.organisation, location=location,
                         kind=ASSESSMENT)
    return pdf


def sign_with_profile(data_dir, secrets, data: dict, comparison: dict | None, *, engineer: str,
                      organisation: str, ask=None) -> bytes:
    """Signed with the engineer's certificate, exactly as visit reports are (ConsoleError when
    the profile, the certificate or its passphrase is missing)."""
    from pacs_console.core.reports.certs import load_signer

    signer, info = load_signer(data_dir, secrets, engineer=engineer, organisation=organisation,
                               ask=ask)
    return signed_pdf(data, comparison, signer, info, location=data.get("site") or "")


def save_in_reports(data_dir, pdf: bytes, data: dict):
    """Keep the signed PDF beside the visit reports: ``reports/security-assessment-….pdf``."""
    import os
    import re

    from pacs_console.core.reports.store import reports_dir
    from pacs_console.core.safepath import join

    slug = re.sub(r"[^A-Za-z0-9]+", "-", data.get("site") or data.get("targets") or "")
    stamp = re.sub(r"[^0-9]", "", str(data["started_at"]))[:14]
    folder = reports_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = join(folder, f"security-assessment-{slug.strip('-').lower()[:40] or 'site'}-"
                        f"{stamp}.pdf")
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_bytes(pdf)
    os.replace(temp, path)
    return path
