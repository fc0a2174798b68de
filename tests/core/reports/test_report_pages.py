"""A real visit's report as a hospital reads it: rendered pages and their text (pdftoppm,
pdftotext) for 3 incidents, 5 test runs and an inventory change."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

from pacs_console.core.db.testruns import save_test_run
from pacs_console.core.incidents import service
from pacs_console.core.reports.gather import gather
from pacs_console.core.reports.pdf import render_pdf
from tests.core.reports.conftest import ARRIVED, ENGINEER, ORGANISATION

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True, timeout=60).stdout


def test_real_visit_pages_have_numbers_whole_and_bars_for_per_test_values(ctx, visit, tmp_path):
    db = ctx.db
    service.create_incident(db, title="Viewer slow on ward 4", severity="medium",
                            site=visit.site_name, reported_at=ARRIVED, visit_id=visit.id)
    for minute, label in ((70, "TTHPACS@10.20.0.5:104"), (80, "TTHWS03@10.20.0.9:11120"),
                          (90, "TTHCR01@10.20.1.21:104")):
        save_test_run(db, kind="echo", outcome="ok", node_label=label,
                      started_at=ARRIVED + timedelta(minutes=minute), summary="C-ECHO OK",
                      metrics={"total_ms": 3.0, "round_trip_ms": {"median": 3.1, "p95": 4.0}})
    report = gather(db, ctx.settings, visit.id, data_dir=ctx.paths.data)
    assert len(report.incidents) == 3 and len(report.test_runs) == 5
    rendered = render_pdf(report)
    pdf = tmp_path / "visit.pdf"
    pdf.write_bytes(rendered.pdf)
    text = _text(pdf)
    assert not UUID.search(text.split("SHA-256 of the attachment")[0]), "a raw UUID is printed"
    assert re.search(r"TTH-\d{8}-01", text) and ORGANISATION in text and ENGINEER in text
    # Ports, AE titles and addresses stay whole on their line.
    for whole in ("10.20.0.5:104", "10.20.0.9:11120", "TTHWS03", "TTHPACS@10.20.0.5:104"):
        assert whole in text, whole
    assert "111 20" not in text and "1112 0" not in text
    assert "AE title changed" in text  # the inventory change since the last visit
    # The per-test latency chart is drawn with bars (filled rectangles), not a polyline.
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=120)
    assert len(list(tmp_path.glob("page-*.png"))) == rendered.pages
    from reportlab.graphics.charts.barcharts import VerticalBarChart

    from pacs_console.core.reports import charts

    echoes = [t for t in report.test_runs if t.latency_ms is not None]
    drawing = charts.latency_trend_chart(echoes, 400)
    assert any(isinstance(c, VerticalBarChart) for c in drawing.contents)


def _lines(par) -> list[str]:
    out = []
    for line in par.blPara.lines:
        if isinstance(line, tuple):
            out.append(" ".join(map(str, line[1])))
        else:
            out.append("".join(getattr(w, "text", "") for w in line.words))
    return out


def test_long_tokens_shrink_or_break_at_separators_never_mid_number():
    from reportlab.platypus import Paragraph

    from pacs_console.core.reports.sections import _cell

    cell = _cell("TTHPACS@10.20.0.5:11120", 95, False)
    assert isinstance(cell, Paragraph) and cell.style.fontSize < 8  # smaller, on one line
    cell.wrap(95, 100)
    assert _lines(cell) == ["TTHPACS@10.20.0.5:11120"]
    cell = _cell("TTHPACS@10.20.0.5:11120", 70, False)  # too narrow: cut after a separator
    cell.wrap(70, 100)
    assert "".join(_lines(cell)) == "TTHPACS@10.20.0.5:11120"
    assert all(line[-1] in ".:@" for line in _lines(cell)[:-1])
    uid = "1.2.840.10008.5.1.4.1.1.88.67.1234567890123456789"
    cell = _cell(uid, 60, False)
    cell.wrap(60, 200)
    texts = _lines(cell)
    assert len(texts) > 1
    assert "".join(texts) == uid and all(t.endswith(".") for t in texts[:-1])
