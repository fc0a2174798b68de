"""The report's sections as platypus flowables, in the order the hospital reads them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from pacs_console.core.reports import charts
from pacs_console.core.reports.model import HandSignature, VisitReport
from pacs_console.core.reports.styles import ACCENT, FONT, FONT_BOLD, STYLES

GRID = colors.HexColor("#c9d1d9")
HEAD_BG = colors.HexColor("#e8eef6")
SLA_TEXT = {"met": "met", "breached": "MISSED", "running": "open (running)",
            "due-soon": "open (due soon)"}


def when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "—"


def minutes(value: float | None) -> str:
    if value is None:
        return "—"
    hours, rest = divmod(int(round(value)), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def p(text: str, style: str = "Body") -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), STYLES[style])


SEPARATORS = ".:/@_-,^="
MIN_CELL_FONT = 6.0


def _cell_style(bold: bool, size: float) -> ParagraphStyle:
    """Cell style at a given size that never splits a word inside (numbers, AE titles, UIDs)."""
    key = (bold, round(size, 1))
    if key not in _CELL_STYLES:
        base = STYLES["CellBold" if bold else "Cell"]
        _CELL_STYLES[key] = ParagraphStyle(f"{base.name}-{key[1]}", parent=base,
                                           fontSize=key[1], leading=key[1] + 2,
                                           splitLongWords=0)
    return _CELL_STYLES[key]


_CELL_STYLES: dict[tuple, ParagraphStyle] = {}


def _break_at_separators(token: str, font: str, size: float, room: float) -> list[str]:
    """A token too wide even in small print, cut only after separators (a UID after a dot)."""
    pieces, line = [], ""
    for part in _separated(token):
        if line and stringWidth(line + part, font, size) > room:
            pieces.append(line)
            line = ""
        line += part
    return [*pieces, line] if line else pieces


def _separated(token: str) -> list[str]:
    parts, current = [], ""
    for ch in token:
        current += ch
        if ch in SEPARATORS:
            parts.append(current)
            current = ""
    return [*parts, current] if current else parts


def _cell(value, width: float, bold: bool):
    """A plain string when it fits on one line (a Paragraph per cell is most of layout time);
    otherwise a paragraph that wraps between words only: a word too long for the column is
    printed smaller, and cut after separators only when even that does not fit."""
    if isinstance(value, Paragraph):
        return value
    text = str(value)
    font = FONT_BOLD if bold else FONT
    room = width - 7
    if "\n" not in text and stringWidth(text, font, 8) <= room:
        return text
    widest = max((stringWidth(w, font, 8) for w in text.split()), default=0.0)
    size = 8.0 if widest <= room else max(MIN_CELL_FONT, 8.0 * room / widest)
    lines = []
    for line in text.split("\n"):
        words = []
        for word in line.split(" "):
            if stringWidth(word, font, size) > room:
                words.append("<br/>".join(escape(w) for w in
                                          _break_at_separators(word, font, size, room)))
            else:
                words.append(escape(word))
        lines.append(" ".join(words))
    return Paragraph("<br/>".join(lines), _cell_style(bold, size))


def table(rows: list[list], widths: list[float], *, header: bool = True,
          key_column: bool = False) -> Table:
    cells = [[_cell(c, w, (header and i == 0) or (key_column and j == 0))
              for j, (c, w) in enumerate(zip(row, widths, strict=True))]
             for i, row in enumerate(rows)]
    t = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
    style = [("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
             ("LEADING", (0, 0), (-1, -1), 10),
             ("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), HEAD_BG), ("FONTNAME", (0, 0), (-1, 0), FONT_BOLD)]
    if key_column:
        style.append(("FONTNAME", (0, 0), (0, -1), FONT_BOLD))
    t.setStyle(TableStyle(style))
    return t


def facts(rows: list[tuple[str, str]], width: float) -> Table:
    return table([[k, v] for k, v in rows], [width * 0.25, width * 0.75], header=False,
                 key_column=True)


def grid(header: list[str], rows: list[list], fractions: tuple[float, ...], width: float) -> Table:
    """A table under a header row, each column the given fraction of ``width``."""
    return table([header, *rows], [width * f for f in fractions])


def listing(title: str, empty: str, header: list[str], rows: list[list],
            fractions: tuple[float, ...], width: float) -> list:
    """An H1 section with one table row per item, or the ``empty`` line when there is none."""
    return [p(title, "H1"), grid(header, rows, fractions, width) if rows else p(empty)]


def per_run(title: str, runs: Sequence, body: Callable[[object], list], intro: str = "") -> list:
    """An H1 section (``intro`` in small print under it) with ``body(run)`` for each run;
    nothing at all when there is no run."""
    if not runs:
        return []
    out: list = [p(title, "H1")] + ([p(intro, "Small")] if intro else [])
    for run in runs:
        out += body(run)
    return out


def _title(r: VisitReport, logo: Path, width: float) -> list:
    image = Image(str(logo))
    scale = min(22 * mm / image.imageHeight, 45 * mm / image.imageWidth)
    image.drawHeight, image.drawWidth = image.imageHeight * scale, image.imageWidth * scale
    org = [p(r.organisation or "Organisation not set (File > Settings > Engineer profile)",
             "Org")]
    if r.organisation_details:
        org.append(p(r.organisation_details, "Small"))
    head = Table([[image, org]], colWidths=[50 * mm, width - 50 * mm])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                              ("LINEBELOW", (0, 0), (-1, 0), 1, ACCENT)]))
    site = r.site + "".join(f"\n{v}" for k, v in r.site_details.items() if k != "contacts")
    rows = [("Site", site), ("Site contacts", r.site_details.get("contacts", "") or "—"),
            ("Engineer", r.engineer + (f" ({r.engineer_id})" if r.engineer_id else "")),
            ("Arrived", when(r.arrived_at)), ("Departed", when(r.departed_at)),
            ("Time on site", minutes(r.on_site_minutes)), ("Purpose", r.purpose or "—"),
            ("Report number", f"{r.report_number or 'draft'}, generated "
                              f"{when(r.generated_at)}")]
    if r.visit_notes:
        rows.append(("Visit notes", r.visit_notes))
    title = ("Visit report — SAMPLE (not a real visit, not a real signature)"
             if r.visit_id is None else "Visit report")
    return [head, Spacer(1, 6 * mm), p(title, "Title"), facts(rows, width)]


def _summary(r: VisitReport) -> list:
    text = r.extras.summary
    if not text:
        breached = sum(i.sla_state == "breached" for i in r.incidents)
        failed = sum(t.outcome not in ("ok", "warning") for t in r.test_runs)
        text = (f"{len(r.incidents)} incident(s) handled ({breached} with the SLA response "
                f"missed); {len(r.test_runs)} test(s) run, {failed} failed; "
                f"{len(r.nodes)} node(s) in the site's address book.")
    return [p("Executive summary", "H1"), p(text)]


def _incidents(r: VisitReport, width: float) -> list:
    rows = [[str(i.id), i.title, i.severity.capitalize(),
             f"{SLA_TEXT.get(i.sla_state, i.sla_state)} ({minutes(i.response_minutes)})",
             i.status.replace("_", " ")] for i in r.incidents]
    out = listing("Incidents handled", "No incident was linked to this visit.",
                  ["#", "Title", "Severity", "SLA response", "Status"], rows,
                  (0.08, 0.47, 0.12, 0.2, 0.13), width)
    for i in r.incidents:
        detail = [("Severity / category", f"{i.severity.capitalize()} / {i.category}"),
                  ("Nodes", ", ".join(i.nodes) or "—"), ("Reported", when(i.reported_at)),
                  ("Response due", when(i.response_due_at)),
                  ("Acknowledged", when(i.acknowledged_at)),
                  ("SLA response", SLA_TEXT.get(i.sla_state, i.sla_state)),
                  ("Resolved", when(i.resolved_at)),
                  ("Root cause", i.root_cause or "—"), ("Resolution", i.resolution or "—")]
        if i.description:
            detail.insert(0, ("Description", i.description))
        out.append(KeepTogether([p(f"{i.id}. {i.title}", "H2"), facts(detail, width)]))
    return out


def _tests(r: VisitReport, width: float) -> list:
    rows = [[f"{t.started_at:%H:%M:%S}", t.kind, t.node_label, t.outcome, t.summary]
            for t in r.test_runs]
    out = listing("Tests run", "No DICOM test was recorded during the visit.",
                  ["Time", "Test", "Node", "Result", "Summary"], rows,
                  (0.1, 0.11, 0.24, 0.09, 0.46), width)
    echoes = [t for t in r.test_runs if t.latency_ms is not None]
    if echoes:
        out += [p("Latency", "H2"), charts.latency_trend_chart(echoes, width)]
    for t in r.test_runs:
        if len(t.latency_series_ms) > 1:
            out.append(charts.latency_series_chart(t, width))
    if any(t.mb_per_s is not None for t in r.test_runs):
        out += [p("Throughput", "H2"), charts.throughput_chart(r.test_runs, width)]
    return out


def _health(r: VisitReport, width: float) -> list:
    def body(run) -> list:
        rows = [[node, check, result.upper(), summary] for node, check, result, summary in run.rows]
        out = [p(f"{run.site}, {when(run.at)}: {run.verdict.upper()}", "H2"),
               grid(["Node", "Check", "Result", "Finding"], rows, (0.22, 0.14, 0.1, 0.54), width)]
        if run.changes:
            out.append(p("Worse than the run before:\n" + "\n".join(f"• {c}" for c in run.changes),
                         "Small"))
        return out

    return per_run("Site health", r.health, body)


def _inventory(r: VisitReport, width: float) -> list:
    rows = [[n.name, n.ae_title, f"{n.host}:{n.port}", n.tags] for n in r.nodes]
    out = listing("Node inventory", "No node of this site is in the address book.",
                  ["Name", "AE title", "Address", "Role"], rows, (0.34, 0.2, 0.26, 0.2), width)
    inv = r.inventory
    if inv.last_sweep_at:
        out.append(p(f"Discovery sweep of {when(inv.last_sweep_at)}: "
                     f"{len(inv.findings)} open service(s)", "H2"))
        out.append(p("\n".join(inv.findings) or "Nothing answered.", "Mono"))
    out.append(p("Changes since the last visit", "H2"))
    if inv.changes is None:
        out.append(p("Only one sweep of this site is recorded: nothing to compare yet."))
    elif not inv.changes:
        out.append(p(f"No change: {inv.unchanged} open ports as before."))
    else:
        out.append(p("\n".join(inv.changes) + f"\n{inv.unchanged} unchanged."))
    for matrix in r.capabilities:
        out.append(p(f"Capabilities of {matrix.node} (probed {when(matrix.probed_at)})", "H2"))
        rows = [[c.sop_class, c.service, c.syntaxes, c.role] for c in matrix.rows]
        out.append(grid(["SOP class", "Service", "Transfer syntaxes", "Role"], rows,
                        (0.4, 0.14, 0.34, 0.12), width))
    return out


def _laptop(r: VisitReport, width: float) -> list:
    lap = r.laptop
    rows = [("Computer", lap.hostname or "—"), ("System", lap.system or "—"),
            ("PACS Console", lap.console_version or "—"),
            ("Interfaces", "\n".join(lap.interfaces) or "—"),
            ("Free disk", f"{lap.disk_free_gb} GB" if lap.disk_free_gb is not None else "—"),
            ("Captured", when(lap.captured_at))]
    return [p("Laptop diagnostics at the time of the visit", "H1"), facts(rows, width)]


def _follow_up(r: VisitReport, width: float) -> list:
    x = r.extras
    out: list = [p("Recommendations and follow-ups", "H1")]
    items = [f"• {t}" for t in x.recommendations] or ["No recommendation."]
    out += [p("Recommendations", "H2"), p("\n".join(items))]
    items = [f"• {t}" for t in x.follow_ups] or ["No follow-up."]
    out += [p("Follow-ups", "H2"), p("\n".join(items))]
    out.append(p("Time spent and parts used", "H1"))
    rows = [["Activity", "Time"]]
    rows += [[t.activity, minutes(t.minutes)] for t in x.time_spent]
    rows.append(["Total" if x.time_spent else "Time on site",
                 minutes(sum(t.minutes for t in x.time_spent) if x.time_spent
                         else r.on_site_minutes)])
    out.append(table(rows, [width * 0.7, width * 0.3]))
    if x.parts:
        rows = [[q.part, f"{q.quantity:g}", q.serial, q.note] for q in x.parts]
        out += [Spacer(1, 3 * mm), grid(["Part", "Quantity", "Serial", "Note"], rows,
                                        (0.4, 0.12, 0.2, 0.28), width)]
    else:
        out.append(p("No parts used."))
    out.append(p("Customer feedback", "H1"))
    rating = f"Rating: {x.feedback_rating} / 5\n" if x.feedback_rating else ""
    out.append(p(rating + (x.feedback or "No feedback given.")))
    return out


def _hand(sig: HandSignature, label: str, width: float) -> list:
    drawing = charts.strokes_drawing(sig.strokes, width, 25 * mm)
    drawing.hAlign = "LEFT"
    name = sig.name or "(not signed)"
    return [p(label, "CellBold"), drawing,
            p(f"{name}\n{sig.role}\n{when(sig.signed_at)}" if sig.name else name, "Cell")]


def _signatures(r: VisitReport, digest: str, slot, width: float) -> list:
    half = width / 2 - 3 * mm
    block = Table([[_hand(r.extras.customer, "Customer's representative", half),
                    _hand(r.extras.engineer, "Engineer", half)]], colWidths=[width / 2] * 2)
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEABOVE", (0, 0), (-1, 0), 0.6, GRID)]))
    meaning = ("SAMPLE report: the signature beside is made with a throw-away SAMPLE key, "
               "not a real signature; it shows how a visit report is certified and proves "
               "nothing about anyone." if r.visit_id is None else
               "Digital signature (PAdES) of the engineer: it certifies this document, so any "
               "later change shows in a PDF reader's signature panel and in "
               "`pacs-console report verify`.")
    digital = Table([[slot, p(meaning, "Small")]],
                    colWidths=[slot.width + 4 * mm, width - slot.width - 4 * mm])
    digital.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                                 ("LEFTPADDING", (0, 0), (0, 0), 0)]))
    integrity = p(f"The visit data is attached to this PDF as visit-report.json. "
                  f"SHA-256 of the attachment: {digest}", "Mono")
    return [CondPageBreak(95 * mm), p("Signatures", "H1"),
            KeepTogether([block, Spacer(1, 5 * mm), digital, Spacer(1, 4 * mm), integrity])]


def story(r: VisitReport, logo: Path, digest: str, slot, contents, width: float,
          after_health: list | None = None) -> list:
    """``after_health``: sections made elsewhere (archive integrity, DR comparison)."""
    out = _title(r, logo, width)
    if contents is not None:  # a page kept free; the canvas writes the contents on it
        out += [PageBreak(), *contents]
    for part in (_summary(r), _incidents(r, width), _tests(r, width), _health(r, width),
                 after_health or [], _inventory(r, width),
                 _laptop(r, width), _follow_up(r, width),
                 _signatures(r, digest, slot, width)):
        out += part
    return out


__all__ = ["FONT", "FONT_BOLD", "story"]
